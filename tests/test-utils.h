/* test-utils.h — helpers for suites that run a whole Veza server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include "veza-server-private.h"

G_BEGIN_DECLS

/* Every wait in the tests is bounded by this many seconds. */
#define TEST_TIMEOUT_S 30

typedef struct {
  char       *data_dir;
  VezaServer *server;
  char       *base_url;      /* http://127.0.0.1:PORT */
  guint16     rtmp_port;
  SoupSession *session;
} TestServer;

/* Starts an in-process server with a private data dir (embedded PostgreSQL),
 * ports 0, the plugins of the build tree. @configure may change the config
 * before start (nullable). */
TestServer *test_server_new      (void (*configure) (VezaConfig *config));
void        test_server_free     (TestServer *ts);
char       *test_server_conninfo (TestServer *ts);

typedef struct {
  guint       status;
  char       *body;
  gsize       body_len;
  JsonNode   *root;           /* parsed body if JSON, else NULL */
  SoupMessageHeaders *headers;
} TestResponse;

void          test_response_free (TestResponse *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestResponse, test_response_free)

/* Sends a request and runs the main context until the answer (bounded). */
TestResponse *test_request       (TestServer  *ts,
                                  const char  *method,
                                  const char  *path,
                                  const char  *token,    /* nullable */
                                  const char  *body,     /* nullable */
                                  const char  *content_type);
/* Raw variant with extra request headers ("Name: value" strings, NULL-ended) */
TestResponse *test_request_full  (TestServer  *ts,
                                  const char  *method,
                                  const char  *path,
                                  const char * const *headers,
                                  const char  *body,
                                  gsize        body_len);

/* JSON helpers on a response: "data.user.id" style paths */
const char   *test_json_string   (TestResponse *r,
                                  const char   *path);
gint64        test_json_int      (TestResponse *r,
                                  const char   *path);
gboolean      test_json_bool     (TestResponse *r,
                                  const char   *path);
JsonNode     *test_json_node     (TestResponse *r,
                                  const char   *path);
/* Asserts the error envelope with @code and @status */
void          test_assert_error  (TestResponse *r,
                                  guint         status,
                                  const char   *code);

/* Registers a new user (unique name from @prefix); returns the token and
 * sets *user_id (both owned by the caller). */
char         *test_register_user (TestServer  *ts,
                                  const char  *prefix,
                                  char       **user_id);

/* Runs the default main context until @done() or the timeout; returns
 * whether @done became TRUE. */
gboolean      test_wait_until    (gboolean   (*done) (gpointer),
                                  gpointer     data,
                                  guint        timeout_s);
/* Runs the main context for @ms milliseconds */
void          test_run_for       (guint        ms);

/* Makes a short FLV test clip with ffmpeg (cached per process);
 * kind: "av", "audio" or "video". Returns its path. */
const char   *test_make_clip     (const char  *kind,
                                  guint        seconds);

/* Starts a publisher child process (ffmpeg or gst-launch). The argv is
 * NULL-terminated. */
GSubprocess  *test_spawn         (const char * const *argv);
/* Waits for a child to exit (bounded); returns its exit status or -1 */
int           test_wait_child    (GSubprocess *proc,
                                  guint        timeout_s);
void          test_kill_child    (GSubprocess *proc);

/* Reads a whole file (or NULL) */
char         *test_read_file     (const char *path);
/* The folder of the test's private data */
const char   *test_tmp_dir       (void);

G_END_DECLS
