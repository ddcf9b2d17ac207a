/* Test harness for the C programs of tests/capi: wait for TIM callbacks with a deadline. */
#ifndef OPENTIM_TEST_HARNESS_H
#define OPENTIM_TEST_HARNESS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "TIMCloud.h"

#define WAIT_SECONDS 20

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* One awaited callback: its code and a copy of its JSON (the SDK's copy dies on return). */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int code;
    char *json;
    pthread_t thread;
} waiter;

static inline void waiter_init(waiter *w) {
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->done = 0;
    w->code = -12345;
    w->json = NULL;
}

static inline void waiter_reset(waiter *w) {
    pthread_mutex_lock(&w->lock);
    free(w->json);
    w->json = NULL;
    w->done = 0;
    w->code = -12345;
    pthread_mutex_unlock(&w->lock);
}

static inline void waiter_signal(waiter *w, int code, const char *json) {
    pthread_mutex_lock(&w->lock);
    free(w->json);
    w->json = strdup(json ? json : "");
    w->code = code;
    w->thread = pthread_self();
    w->done = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* A TIMCommCallback whose user_data is the waiter to signal. */
static inline void on_comm(int32_t code, const char *desc, const char *json_params, const void *user_data) {
    (void)desc;
    waiter_signal((waiter *)user_data, code, json_params);
}

/* Wait for the callback; exit(1) when it does not come in time. Returns its code. */
static inline int waiter_wait(waiter *w, const char *what) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0) {
            fprintf(stderr, "timed out waiting for %s\n", what);
            exit(1);
        }
    }
    int code = w->code;
    pthread_mutex_unlock(&w->lock);
    if (code != 0) fprintf(stderr, "%s: code %d, %s\n", what, code, w->json);
    return code;
}

/* Call, expect TIM_SUCC, then wait for the callback and expect code 0. */
#define CALL_AND_WAIT(w, what, call)          \
    do {                                      \
        waiter_reset(w);                      \
        int rc_ = (call);                     \
        if (rc_ != TIM_SUCC) {                \
            fprintf(stderr, "%s returned %d\n", what, rc_); \
            exit(1);                          \
        }                                     \
        CHECK(waiter_wait(w, what) == 0);     \
    } while (0)

static inline void init_sdk(const char *config_dir) {
    char config[1024];
    snprintf(config, sizeof config, "{\"%s\": \"%s\"}", kTIMSdkConfigConfigFilePath, config_dir);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC);
}

static inline void login(const char *user, const char *sig) {
    waiter w;
    waiter_init(&w);
    CALL_AND_WAIT(&w, "TIMLogin", TIMLogin(user, sig, on_comm, &w));
    char buffer[128];
    CHECK(TIMGetLoginUserID(buffer) == TIM_SUCC);
    CHECK(strcmp(buffer, user) == 0);
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_Logined);
}

static inline int send_text_cb(const char *to, const char *text, char *message_id,
                               TIMCommCallback cb, const void *user_data) {
    char msg[1024];
    snprintf(msg, sizeof msg, "{\"%s\": [{\"%s\": %d, \"%s\": \"%s\"}]}", kTIMMsgElemArray,
             kTIMElemType, kTIMElem_Text, kTIMTextElemContent, text);
    return TIMMsgSendMessage(to, kTIMConv_C2C, msg, message_id, cb, user_data);
}

static inline int send_text(const char *to, const char *text, char *message_id, waiter *w) {
    return send_text_cb(to, text, message_id, on_comm, w);
}

#endif
