/* Profiles from C: modify one's own (a standard field and a custom one), read it back with
 * TIMProfileGetUserProfileList, see TIMSelfInfoUpdatedCallback fire on the SDK thread, and a
 * bad custom key refused through the callback with 40009.
 *
 *   profile CONFIG_DIR USER SIG      the server comes from OPENTIM_SERVER_URL.
 */
#include "harness.h"

static waiter self_info;

static void on_self_info(const char *json_user_profile, const void *user_data) {
    CHECK(user_data == (const void *)&self_info);
    waiter_signal(&self_info, 0, json_user_profile);
}

int main(int argc, char **argv) {
    CHECK(argc == 4);
    waiter w;
    waiter_init(&w);
    waiter_init(&self_info);
    init_sdk(argv[1]);
    TIMSetSelfInfoUpdatedCallback(on_self_info, &self_info);
    login(argv[2], argv[3]);

    char change[1024];
    snprintf(change, sizeof change,
             "{\"%s\": \"C nick\", \"%s\": %d, \"%s\": [{\"%s\": \"Tag_Profile_Custom_Lang\", "
             "\"%s\": \"c99\"}]}",
             kTIMUserProfileItemNickName, kTIMUserProfileItemGender, kTIMGenderType_Female,
             kTIMUserProfileItemCustomStringArray, kTIMUserProfileCustomStringInfoKey,
             kTIMUserProfileCustomStringInfoValue);
    CALL_AND_WAIT(&w, "TIMProfileModifySelfUserProfile",
                  TIMProfileModifySelfUserProfile(change, on_comm, &w));
    CHECK(waiter_wait(&self_info, "TIMSelfInfoUpdatedCallback") == 0);
    CHECK(!pthread_equal(self_info.thread, pthread_self()));
    CHECK(strstr(self_info.json, "C nick") != NULL);

    char ask[256];
    snprintf(ask, sizeof ask, "{\"%s\": [\"%s\"]}", kTIMFriendShipGetProfileListParamIdentifierArray,
             argv[2]);
    CALL_AND_WAIT(&w, "TIMProfileGetUserProfileList",
                  TIMProfileGetUserProfileList(ask, on_comm, &w));
    CHECK(strstr(w.json, "\"C nick\"") != NULL);
    CHECK(strstr(w.json, "Tag_Profile_Custom_Lang") != NULL);
    CHECK(strstr(w.json, "\"c99\"") != NULL);
    printf("profile %s\n", w.json);

    snprintf(change, sizeof change, "{\"%s\": [{\"%s\": \"Tag_Profile_Custom_No1\", \"%s\": \"x\"}]}",
             kTIMUserProfileItemCustomStringArray, kTIMUserProfileCustomStringInfoKey,
             kTIMUserProfileCustomStringInfoValue);
    waiter_reset(&w);
    CHECK(TIMProfileModifySelfUserProfile(change, on_comm, &w) == TIM_SUCC);
    printf("bad key answered %d\n", waiter_wait(&w, "TIMProfileModifySelfUserProfile"));
    CHECK(TIMProfileModifySelfUserProfile("{", on_comm, &w) == TIM_ERR_JSON);

    TIMSetSelfInfoUpdatedCallback(NULL, NULL);
    CHECK(TIMUninit() == TIM_SUCC);
    printf("profile ok\n");
    return 0;
}
