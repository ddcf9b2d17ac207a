/* The friendship basics from C, in three runs against one server:
 *
 *   friends CONFIG_DIR apply USER SIG PEER   USER adds PEER (whose permission needs a
 *                                            confirmation): code 30539, an application waits.
 *   friends CONFIG_DIR main USER SIG PEER    USER finds PEER's application, agrees and adds
 *                                            (both ways), lists friends, sets a remark, checks
 *                                            the relation, blocks PEER and lists the blacklist;
 *                                            the blacklist-added callback comes on the SDK thread.
 *   friends CONFIG_DIR send USER SIG PEER    USER (blocked by PEER) sends to PEER: 20007.
 *
 * The server comes from OPENTIM_SERVER_URL.
 */
#include "harness.h"

static waiter blocked;

static void on_black_added(const char *json, const void *user_data) {
    waiter_signal((waiter *)user_data, 0, json);
}

static void apply(const char *peer) {
    waiter w;
    waiter_init(&w);
    char param[256];
    snprintf(param, sizeof param,
             "{\"friendship_add_friend_param_identifier\": \"%s\", "
             "\"friendship_add_friend_param_add_wording\": \"hi from C\"}",
             peer);
    CALL_AND_WAIT(&w, "TIMFriendshipAddFriend", TIMFriendshipAddFriend(param, on_comm, &w));
    CHECK(strstr(w.json, "\"friend_result_code\":30539") != NULL);
    printf("applied\n");
}

static void befriend_and_block(const char *peer) {
    waiter w;
    waiter_init(&w);
    char param[512];
    CALL_AND_WAIT(&w, "TIMFriendshipGetPendencyList",
                  TIMFriendshipGetPendencyList("{\"friendship_get_pendency_list_param_type\": 0}",
                                               on_comm, &w));
    CHECK(strstr(w.json, peer) != NULL);
    CHECK(strstr(w.json, "hi from C") != NULL);

    snprintf(param, sizeof param,
             "{\"friend_response_identifier\": \"%s\", \"friend_response_action\": 1}", peer);
    CALL_AND_WAIT(&w, "TIMFriendshipHandleFriendAddRequest",
                  TIMFriendshipHandleFriendAddRequest(param, on_comm, &w));
    CHECK(strstr(w.json, "\"friend_result_code\":0") != NULL);

    CALL_AND_WAIT(&w, "TIMFriendshipGetFriendProfileList",
                  TIMFriendshipGetFriendProfileList(on_comm, &w));
    snprintf(param, sizeof param, "\"friend_profile_identifier\":\"%s\"", peer);
    CHECK(strstr(w.json, param) != NULL);

    snprintf(param, sizeof param,
             "{\"friendship_modify_friend_profile_param_identifier\": \"%s\", "
             "\"friendship_modify_friend_profile_param_item\": "
             "{\"friend_profile_item_remark\": \"C friend\"}}",
             peer);
    CALL_AND_WAIT(&w, "TIMFriendshipModifyFriendProfile",
                  TIMFriendshipModifyFriendProfile(param, on_comm, &w));

    snprintf(param, sizeof param,
             "{\"friendship_check_friendtype_param_check_type\": 1, "
             "\"friendship_check_friendtype_param_identifier_array\": [\"%s\"]}",
             peer);
    CALL_AND_WAIT(&w, "TIMFriendshipCheckFriendType",
                  TIMFriendshipCheckFriendType(param, on_comm, &w));
    CHECK(strstr(w.json, "\"friendship_check_friendtype_result_relation\":3") != NULL);

    waiter_init(&blocked);
    TIMSetFriendBlackListAddedCallback(on_black_added, &blocked);
    snprintf(param, sizeof param, "[\"%s\"]", peer);
    CALL_AND_WAIT(&w, "TIMFriendshipAddToBlackList", TIMFriendshipAddToBlackList(param, on_comm, &w));
    CHECK(waiter_wait(&blocked, "TIMFriendBlackListAddedCallback") == 0);
    CHECK(strstr(blocked.json, peer) != NULL);
    CHECK(!pthread_equal(blocked.thread, pthread_self()));

    CALL_AND_WAIT(&w, "TIMFriendshipGetBlackList", TIMFriendshipGetBlackList(on_comm, &w));
    CHECK(strstr(w.json, peer) != NULL);
    CALL_AND_WAIT(&w, "TIMFriendshipGetFriendProfileList",
                  TIMFriendshipGetFriendProfileList(on_comm, &w));
    CHECK(strcmp(w.json, "[]") == 0); /* blocking ends the friendship */
    CHECK(TIMFriendshipAddToBlackList("not json", on_comm, &w) == TIM_ERR_JSON);
    printf("befriended and blocked %s\n", peer);
}

static void send_blocked(const char *peer) {
    waiter w;
    waiter_init(&w);
    waiter_reset(&w);
    CHECK(send_text_cb(peer, "let me in", NULL, on_comm, &w) == TIM_SUCC);
    CHECK(waiter_wait(&w, "TIMMsgSendMessage") == ERR_SVR_MSG_IN_PEER_BLACKLIST);
    printf("refused %d\n", w.code);
}

int main(int argc, char **argv) {
    CHECK(argc == 6);
    init_sdk(argv[1]);
    login(argv[3], argv[4]);
    if (strcmp(argv[2], "apply") == 0) {
        apply(argv[5]);
    } else if (strcmp(argv[2], "main") == 0) {
        befriend_and_block(argv[5]);
    } else {
        send_blocked(argv[5]);
    }
    CHECK(TIMUninit() == TIM_SUCC);
    return 0;
}
