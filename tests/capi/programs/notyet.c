/* A function opentim does not have yet, looked up by name (argv[2]) among the library's
 * exports: TIM_ERR_SDKUNINIT before TIMInit, TIM_ERR_NOTLOGIN before TIMLogin, then TIM_SUCC
 * and the "not yet" code (7013, ERR_SDK_INTERFACE_NOT_SUPPORT) through its callback on the SDK
 * thread, with user_data untouched; a NULL callback is TIM_ERR_PARAM. A setter of an event that
 * is not real yet registers and unregisters.
 *
 *   notyet CONFIG_DIR NAME USER SIG    NAME takes (TIMCommCallback cb, const void* user_data);
 *                                      the server comes from OPENTIM_SERVER_URL.
 */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "harness.h"

typedef int (*cb_only_fn)(TIMCommCallback cb, const void *user_data);

static void on_friends(const char *json, const void *user_data) {
    (void)json;
    (void)user_data;
}

int main(int argc, char **argv) {
    CHECK(argc == 5);
    cb_only_fn fn = (cb_only_fn)dlsym(RTLD_DEFAULT, argv[2]);
    CHECK(fn != NULL);
    waiter w;
    waiter_init(&w);
    CHECK(fn(on_comm, &w) == TIM_ERR_SDKUNINIT);
    init_sdk(argv[1]);
    CHECK(fn(on_comm, &w) == TIM_ERR_NOTLOGIN);
    login(argv[3], argv[4]);
    waiter_reset(&w);
    CHECK(fn(on_comm, &w) == TIM_SUCC);
    CHECK(waiter_wait(&w, argv[2]) == ERR_SDK_INTERFACE_NOT_SUPPORT);
    CHECK(!pthread_equal(w.thread, pthread_self()));
    CHECK(fn(NULL, NULL) == TIM_ERR_PARAM);
    TIMSetOnAddFriendCallback(on_friends, &w);
    TIMSetOnAddFriendCallback(NULL, NULL);
    CHECK(TIMUninit() == TIM_SUCC);
    CHECK(fn(on_comm, &w) == TIM_ERR_SDKUNINIT);
    printf("%s answered %d\n", argv[2], w.code);
    return 0;
}
