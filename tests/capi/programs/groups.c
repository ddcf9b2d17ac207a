/* A group screen from C: create a group, change its name and notification, read its info,
 * make a member an admin with a name card, list the admins and then every member, and see the
 * group info change tip arrive through TIMSetGroupTipsEventCallback.
 *
 *   groups CONFIG_DIR USER SIG MEMBER    the server comes from OPENTIM_SERVER_URL.
 */
#include "harness.h"

static waiter tip_waiter;

/* TIMGroupTipsEventCallback: keep the first group info change tip. */
static void on_tip(const char *json_group_tip, const void *user_data) {
    CHECK(user_data == (const void *)&tip_waiter);
    char wanted[128];
    snprintf(wanted, sizeof wanted, "\"%s\":%d", kTIMGroupTipsElemTipType, kTIMGroupTip_GroupInfoChange);
    if (strstr(json_group_tip, wanted) != NULL && !tip_waiter.done) waiter_signal(&tip_waiter, 0, json_group_tip);
}

int main(int argc, char **argv) {
    CHECK(argc == 5);
    const char *member = argv[4];
    waiter w;
    waiter_init(&w);
    waiter_init(&tip_waiter);
    init_sdk(argv[1]);
    TIMSetGroupTipsEventCallback(on_tip, &tip_waiter);
    login(argv[2], argv[3]);

    char json[2048];
    snprintf(json, sizeof json,
             "{\"%s\": \"capi-group\", \"%s\": \"Before\", \"%s\": %d, \"%s\": [{\"%s\": \"%s\"}]}",
             kTIMCreateGroupParamGroupId, kTIMCreateGroupParamGroupName, kTIMCreateGroupParamGroupType,
             kTIMGroup_Public, kTIMCreateGroupParamGroupMemberArray, kTIMGroupMemberInfoIdentifier, member);
    CALL_AND_WAIT(&w, "TIMGroupCreate", TIMGroupCreate(json, on_comm, &w));

    snprintf(json, sizeof json, "{\"%s\": \"capi-group\", \"%s\": %d, \"%s\": \"After\", \"%s\": \"from C\"}",
             kTIMGroupModifyInfoParamGroupId, kTIMGroupModifyInfoParamModifyFlag,
             kTIMGroupModifyInfoFlag_Name | kTIMGroupModifyInfoFlag_Notification,
             kTIMGroupModifyInfoParamGroupName, kTIMGroupModifyInfoParamNotification);
    CALL_AND_WAIT(&w, "TIMGroupModifyGroupInfo", TIMGroupModifyGroupInfo(json, on_comm, &w));
    CHECK(strcmp(w.json, "") == 0);
    CHECK(waiter_wait(&tip_waiter, "the group info change tip") == 0);
    CHECK(strstr(tip_waiter.json, "After") != NULL);

    CALL_AND_WAIT(&w, "TIMGroupGetGroupInfoList", TIMGroupGetGroupInfoList("[\"capi-group\"]", on_comm, &w));
    CHECK(strstr(w.json, "\"After\"") != NULL);
    CHECK(strstr(w.json, "\"from C\"") != NULL);
    printf("info %s\n", w.json);

    snprintf(json, sizeof json,
             "{\"%s\": \"capi-group\", \"%s\": \"%s\", \"%s\": %d, \"%s\": %d, \"%s\": \"Deputy\"}",
             kTIMGroupModifyMemberInfoParamGroupId, kTIMGroupModifyMemberInfoParamIdentifier, member,
             kTIMGroupModifyMemberInfoParamModifyFlag,
             kTIMGroupMemberModifyFlag_MemberRole | kTIMGroupMemberModifyFlag_NameCard,
             kTIMGroupModifyMemberInfoParamMemberRole, kTIMMemberRole_Admin,
             kTIMGroupModifyMemberInfoParamNameCard);
    CALL_AND_WAIT(&w, "TIMGroupModifyMemberInfo", TIMGroupModifyMemberInfo(json, on_comm, &w));

    snprintf(json, sizeof json, "{\"%s\": \"capi-group\", \"%s\": {\"%s\": %d}}",
             kTIMGroupGetMemberInfoListParamGroupId, kTIMGroupGetMemberInfoListParamOption,
             kTIMGroupMemberGetInfoOptionRoleFlag, kTIMGroupMemberRoleFlag_Admin);
    CALL_AND_WAIT(&w, "TIMGroupGetMemberInfoList (admins)", TIMGroupGetMemberInfoList(json, on_comm, &w));
    CHECK(strstr(w.json, member) != NULL);
    CHECK(strstr(w.json, "\"Deputy\"") != NULL);
    printf("admins %s\n", w.json);

    snprintf(json, sizeof json, "{\"%s\": \"capi-group\"}", kTIMGroupGetMemberInfoListParamGroupId);
    CALL_AND_WAIT(&w, "TIMGroupGetMemberInfoList", TIMGroupGetMemberInfoList(json, on_comm, &w));
    CHECK(strstr(w.json, member) != NULL && strstr(w.json, argv[2]) != NULL);
    printf("members %s\n", w.json);

    CHECK(TIMGroupModifyGroupInfo("{", on_comm, &w) == TIM_ERR_JSON);
    TIMSetGroupTipsEventCallback(NULL, NULL);
    CHECK(TIMUninit() == TIM_SUCC);
    printf("groups ok\n");
    return 0;
}
