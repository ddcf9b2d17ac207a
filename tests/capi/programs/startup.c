/* What Tencent's wrappers and sample apps do at start-up, from C: callExperimentalAPI before
 * TIMInit (its answer comes on a thread of the SDK, not the caller's), TIMGetSDKVersion,
 * TIMSetConfig with log levels and the log callback, TIMGetServerTime after login, and the
 * older send names TIMMsgSendNewMsg and TIMMsgSendNewMsgEx.
 *
 *   startup CONFIG_DIR USER SIG PEER    the server comes from OPENTIM_SERVER_URL.
 */
#include "harness.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int logged_in_lines;
static int log_level_seen = -1;

static void on_log(enum TIMLogLevel level, const char *log, const void *user_data) {
    CHECK(user_data == (const void *)&log_lock);
    pthread_mutex_lock(&log_lock);
    if (strstr(log, "logged in") != NULL) {
        logged_in_lines++;
        log_level_seen = (int)level;
    }
    pthread_mutex_unlock(&log_lock);
}

static waiter id_waiter;
static int result_after_id;

/* TIMMsgSendNewMsgEx's two callbacks get the same user_data (the result's waiter). */
static void on_msgid(int32_t code, const char *desc, const char *json_params, const void *user_data) {
    (void)desc;
    (void)user_data;
    waiter_signal(&id_waiter, code, json_params);
}

static void on_result(int32_t code, const char *desc, const char *json_params, const void *user_data) {
    (void)desc;
    result_after_id = id_waiter.done;
    waiter_signal((waiter *)user_data, code, json_params);
}

int main(int argc, char **argv) {
    CHECK(argc == 5);
    waiter w;
    waiter_init(&w);
    char request[512];
    snprintf(request, sizeof request, "{\"%s\": \"%s\", \"%s\": 6}", kTIMRequestInternalOperation,
             kTIMInternalOperationSetUIPlatform, kTIMRequestSetUIPlatformParam);
    CALL_AND_WAIT(&w, "callExperimentalAPI", callExperimentalAPI(request, on_comm, &w));
    CHECK(!pthread_equal(w.thread, pthread_self()));
    CHECK(strstr(w.json, kTIMInternalOperationSetUIPlatform) != NULL);
    const char *version = TIMGetSDKVersion();
    CHECK(version != NULL && version[0] != '\0');
    printf("version %s\n", version);

    init_sdk(argv[1]);
    TIMSetLogCallback(on_log, &log_lock);
    char config[256];
    snprintf(config, sizeof config, "{\"%s\": %d, \"%s\": %d}", kTIMSetConfigLogLevel, kTIMLog_Info,
             kTIMSetConfigCallbackLogLevel, kTIMLog_Info);
    CALL_AND_WAIT(&w, "TIMSetConfig", TIMSetConfig(config, on_comm, &w));
    CHECK(TIMSetConfig("{", on_comm, &w) == TIM_ERR_JSON);
    login(argv[2], argv[3]);
    uint64_t server_time = TIMGetServerTime();
    long drift = (long)server_time - (long)time(NULL);
    CHECK(drift > -5 && drift < 5);

    char msg[512];
    snprintf(msg, sizeof msg, "{\"%s\": [{\"%s\": %d, \"%s\": \"old send\"}]}", kTIMMsgElemArray,
             kTIMElemType, kTIMElem_Text, kTIMTextElemContent);
    CALL_AND_WAIT(&w, "TIMMsgSendNewMsg", TIMMsgSendNewMsg(argv[4], kTIMConv_C2C, msg, on_comm, &w));
    CHECK(strstr(w.json, "old send") != NULL);
    waiter_init(&id_waiter);
    CALL_AND_WAIT(&w, "TIMMsgSendNewMsgEx",
                  TIMMsgSendNewMsgEx(argv[4], kTIMConv_C2C, msg, on_msgid, on_result, &w));
    CHECK(result_after_id);
    CHECK(id_waiter.done && id_waiter.code == 0 && id_waiter.json[0] != '\0');
    CHECK(strstr(w.json, id_waiter.json) != NULL); /* the result is the message of that id */

    pthread_mutex_lock(&log_lock);
    CHECK(logged_in_lines >= 1 && log_level_seen == kTIMLog_Info);
    pthread_mutex_unlock(&log_lock);
    TIMSetLogCallback(NULL, NULL);
    CHECK(TIMUninit() == TIM_SUCC);
    printf("startup ok\n");
    return 0;
}
