/* A function opentim.tim does not implement yet, looked up by name (argv[2]) among the
 * library's exports: TIM_ERR_SDKUNINIT before TIMInit, then TIM_SUCC and the "not yet" code
 * (7013, ERR_SDK_INTERFACE_NOT_SUPPORT) through its callback, with user_data untouched.
 *
 *   notyet CONFIG_DIR NAME      NAME takes (TIMCommCallback cb, const void* user_data).
 */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "harness.h"

typedef int (*cb_only_fn)(TIMCommCallback cb, const void *user_data);

int main(int argc, char **argv) {
    CHECK(argc == 3);
    cb_only_fn fn = (cb_only_fn)dlsym(RTLD_DEFAULT, argv[2]);
    CHECK(fn != NULL);
    waiter w;
    waiter_init(&w);
    CHECK(fn(on_comm, &w) == TIM_ERR_SDKUNINIT);
    init_sdk(argv[1]);
    waiter_reset(&w);
    CHECK(fn(on_comm, &w) == TIM_SUCC);
    CHECK(waiter_wait(&w, argv[2]) == ERR_SDK_INTERFACE_NOT_SUPPORT);
    CHECK(!pthread_equal(w.thread, pthread_self()));
    CHECK(fn(NULL, NULL) == TIM_SUCC);
    /* A setter of a callback opentim has not got registers nothing, and does not fail. */
    TIMSetLogCallback(NULL, NULL);
    CHECK(TIMUninit() == TIM_SUCC);
    CHECK(fn(on_comm, &w) == TIM_ERR_SDKUNINIT);
    printf("%s answered %d\n", argv[2], w.code);
    return 0;
}
