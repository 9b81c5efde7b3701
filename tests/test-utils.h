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

/* The argv (NULL-terminated; borrows @url and @clip) of an ffmpeg publisher
 * sending @clip at its own pace to @url; with @loop, until killed (a
 * publisher that drops without unpublishing). */
GPtrArray    *test_ffmpeg_publish_argv (const char *url,
                                        const char *clip,
                                        gboolean    loop);
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

/* ---- helpers of the REST API suites ------------------------------------- */

/* Runs one statement on the server's own database (bounded, asserts that it
 * succeeds) and returns the column named "value" of the first row, or NULL
 * when there is no row, no such column or the value is SQL NULL. */
char         *test_db_value      (TestServer         *ts,
                                  const char         *sql,
                                  int                 n_params,
                                  const char * const *params);
/* POST /internal/stream-events {event, stream_id} with X-Internal-Token
 * (nullable: no header). */
TestResponse *test_stream_event  (TestServer  *ts,
                                  const char  *internal_token,
                                  const char  *event,
                                  const char  *stream_id);
/* Creates a stream with @title for @token's user (asserts 201); returns
 * its id. */
char         *test_create_stream (TestServer  *ts,
                                  const char  *token,
                                  const char  *title);
/* Puts a closed HLS recording (both playlists with ENDLIST, one segment)
 * into the stream's media folder, as an external ingest sharing the folder
 * would leave it, so that ending the broadcast makes a VOD. */
void          test_fake_recording (TestServer *ts,
                                   const char *stream_id);

/* A user with one stream, for suites that publish */
typedef struct {
  char *token;
  char *user_id;
  char *stream_id;
  char *key;
} Streamer;

void          streamer_free      (Streamer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Streamer, streamer_free)

/* vezad ($VEZAD) as a child process, its output collected as it comes */
typedef struct {
  GSubprocess      *proc;
  GDataInputStream *err;
  GString          *log;
  gboolean          eof;
} Daemon;

Daemon       *daemon_start       (const char * const *args);
gboolean      daemon_wait_log    (Daemon     *d,
                                  const char *needle,
                                  guint       timeout_s);
int           daemon_finish      (Daemon     *d,
                                  guint       timeout_s);
void          daemon_free        (Daemon     *d);
/* A TestServer-like handle on a running daemon for test_request() */
TestServer   *test_server_for_url (const char *base_url);
void          test_server_for_url_free (TestServer *ts);

G_END_DECLS
