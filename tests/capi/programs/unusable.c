/* The library's Python cannot import opentim (OPENTIM_PYTHON names an empty environment):
 * every function refuses, none returns TIM_SUCC, no callback comes. */
#include "harness.h"

static int called;

static void on_login(int32_t code, const char *desc, const char *json_params, const void *user_data) {
    (void)code, (void)desc, (void)json_params, (void)user_data;
    called = 1;
}

int main(void) {
    CHECK(TIMInit(1400000000, NULL) == TIM_ERR_SDKUNINIT);
    CHECK(TIMLogin("alice", "sig", on_login, NULL) == TIM_ERR_SDKUNINIT);
    CHECK(TIMConvGetConvList(on_login, NULL) == TIM_ERR_SDKUNINIT);
    CHECK(TIMGetSDKVersion() != NULL && TIMGetSDKVersion()[0] == '\0');
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_UnLogined);
    TIMSetConvEventCallback(NULL, NULL);
    CHECK(TIMUninit() == TIM_ERR_SDKUNINIT);
    CHECK(!called);
    printf("refused\n");
    return 0;
}
