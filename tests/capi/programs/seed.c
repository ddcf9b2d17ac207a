/* The seed scenarios as a C app written against Tencent's API: no server address in the code
 * (it comes from OPENTIM_SERVER_URL or opentim.json in the config directory).
 *
 *   seed bob CONFIG_DIR SIG     logs in, prints "ready", waits for alice's message; from inside
 *                               the receive callback it calls TIMConvGetConvList.
 *   seed alice CONFIG_DIR SIG   sends bob a message, lists, drafts, pins, counts unread.
 */
#include "harness.h"

static waiter received, listed_in_callback;
static const char *magic = "marker-of-alice";
static int recv_user_data_ok = 1;

static void on_new_msg(const char *json_msg_array, const void *user_data) {
    if (user_data != (const void *)magic) recv_user_data_ok = 0;
    if (strstr(json_msg_array, "hello from C") == NULL) return;
    /* A TIM call from inside a callback, on the SDK thread. */
    int rc = TIMConvGetConvList(on_comm, &listed_in_callback);
    waiter_signal(&received, rc, json_msg_array);
}

static int bob(const char *sig) {
    waiter_init(&received);
    waiter_init(&listed_in_callback);
    TIMAddRecvNewMsgCallback(on_new_msg, magic);
    login("bob", sig);
    printf("ready\n");
    fflush(stdout);
    CHECK(waiter_wait(&received, "the new message") == TIM_SUCC);
    CHECK(strstr(received.json, "\"message_sender\":\"alice\"") != NULL);
    CHECK(recv_user_data_ok);
    CHECK(!pthread_equal(received.thread, pthread_self()));
    CHECK(waiter_wait(&listed_in_callback, "TIMConvGetConvList in a callback") == 0);
    CHECK(strstr(listed_in_callback.json, "\"conv_id\":\"alice\"") != NULL);
    TIMRemoveRecvNewMsgCallback(on_new_msg);
    printf("bob got: %s\n", received.json);
    return 0;
}

static int alice(const char *sig) {
    waiter w;
    waiter_init(&w);
    login("alice", sig);

    char message_id[128] = {0};
    CALL_AND_WAIT(&w, "TIMMsgSendMessage", send_text("bob", "hello from C", message_id, &w));
    CHECK(strlen(message_id) > 0);
    CHECK(strstr(w.json, message_id) != NULL);

    CALL_AND_WAIT(&w, "TIMConvGetConvList", TIMConvGetConvList(on_comm, &w));
    CHECK(strstr(w.json, "\"conv_id\":\"bob\"") != NULL);

    char draft[512];
    snprintf(draft, sizeof draft, "{\"%s\": {\"%s\": [{\"%s\": %d, \"%s\": \"unsent\"}]}}",
             kTIMDraftMsg, kTIMMsgElemArray, kTIMElemType, kTIMElem_Text, kTIMTextElemContent);
    CHECK(TIMConvSetDraft("bob", kTIMConv_C2C, draft) == TIM_SUCC);
    CALL_AND_WAIT(&w, "TIMConvGetConvList", TIMConvGetConvList(on_comm, &w));
    CHECK(strstr(w.json, "\"conv_is_has_draft\":true") != NULL);
    CHECK(strstr(w.json, "unsent") != NULL);
    CHECK(TIMConvCancelDraft("bob", kTIMConv_C2C) == TIM_SUCC);
    CALL_AND_WAIT(&w, "TIMConvGetConvList", TIMConvGetConvList(on_comm, &w));
    CHECK(strstr(w.json, "\"conv_is_has_draft\":false") != NULL);

    CALL_AND_WAIT(&w, "TIMConvPinConversation", TIMConvPinConversation("bob", kTIMConv_C2C, true, on_comm, &w));
    CALL_AND_WAIT(&w, "TIMConvGetConvList", TIMConvGetConvList(on_comm, &w));
    CHECK(strstr(w.json, "\"conv_is_pinned\":true") != NULL);

    CALL_AND_WAIT(&w, "TIMConvGetTotalUnreadMessageCount", TIMConvGetTotalUnreadMessageCount(on_comm, &w));
    CHECK(strstr(w.json, kTIMConvGetTotalUnreadMessageCountResultUnreadCount) != NULL);

    /* Bytes that are not UTF-8 are refused, never accepted. */
    CHECK(TIMConvSetDraft("\xff\xfe", kTIMConv_C2C, draft) == TIM_ERR_PARAM);
    CHECK(TIMConvSetDraft("bob", kTIMConv_C2C, "{\"draft_msg\": \"\xff\"}") == TIM_ERR_JSON);
    printf("alice done\n");
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 4);
    init_sdk(argv[2]);
    int rc = strcmp(argv[1], "bob") == 0 ? bob(argv[3]) : alice(argv[3]);
    CHECK(TIMUninit() == TIM_SUCC);
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_UnLogined);
    return rc;
}
