/* Several app threads call the SDK at once; every callback comes, on the one SDK thread.
 *
 *   threads CONFIG_DIR SIG      logs in as carol, then THREADS threads each send CALLS messages
 *                               to dave and list conversations, all at the same time.
 */
#include "harness.h"

#define THREADS 8
#define CALLS 5

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_cond = PTHREAD_COND_INITIALIZER;
static int answered, failed;
static pthread_t first_thread;
static int other_threads;
static pthread_barrier_t start;

static void on_answer(int32_t code, const char *desc, const char *json_params, const void *user_data) {
    pthread_mutex_lock(&count_lock);
    if (answered == 0)
        first_thread = pthread_self();
    else if (!pthread_equal(first_thread, pthread_self()))
        other_threads++;
    if (code != 0 || user_data != &answered) {
        fprintf(stderr, "answer %d: code %d (%s) %s\n", answered, code, desc, json_params);
        failed++;
    }
    answered++;
    pthread_cond_broadcast(&count_cond);
    pthread_mutex_unlock(&count_lock);
}

static void *caller(void *arg) {
    long n = (long)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < CALLS; i++) {
        char text[64], message_id[128];
        snprintf(text, sizeof text, "thread %ld call %d", n, i);
        CHECK(send_text_cb("dave", text, message_id, on_answer, &answered) == TIM_SUCC);
        CHECK(message_id[0] != '\0');
        CHECK(TIMConvGetConvList(on_answer, &answered) == TIM_SUCC);
        CHECK(TIMGetLoginStatus() == kTIMLoginStatus_Logined);
    }
    return NULL;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    init_sdk(argv[1]);
    login("carol", argv[2]);
    pthread_t threads[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, caller, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&count_lock);
    while (answered < THREADS * CALLS * 2)
        CHECK(pthread_cond_timedwait(&count_cond, &count_lock, &until) == 0);
    pthread_mutex_unlock(&count_lock);
    CHECK(failed == 0);
    CHECK(other_threads == 0);
    CHECK(!pthread_equal(first_thread, pthread_self()));

    waiter w;
    waiter_init(&w);
    CALL_AND_WAIT(&w, "TIMConvGetConvList", TIMConvGetConvList(on_comm, &w));
    CHECK(strstr(w.json, "\"conv_id\":\"dave\"") != NULL);
    CHECK(TIMUninit() == TIM_SUCC);
    printf("%d answers\n", answered);
    return 0;
}
