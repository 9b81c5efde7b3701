/* veza-broadcasts.c — live broadcasts: RTMP ingest, pipelines, lifecycle
 *
 * A broadcast is one live_streams row while it is live. It has a source (an
 * RTMP publisher connected here, a pull from an rtmp:// URL, or an external
 * ingest that only reports events), an HLS writer that owns the stream's
 * folder, and, for the first two, a media pipeline.
 *
 * Lifecycle (API.md §3):
 *  - publish: the key is authorised through the publish-authorize hook; the
 *    row starts (or, for an ended row, a successor row takes its key), the
 *    pipeline starts, stream-started is emitted;
 *  - the publisher drops without unpublishing: the broadcast waits for the
 *    reconnect grace; a publish on the same key continues it (the playlists
 *    get a discontinuity);
 *  - grace expiry, FCUnpublish/deleteStream, /stop, a pipeline error or
 *    shutdown: the pipeline drains, the playlists get ENDLIST, the row
 *    becomes a VOD when it has segments, stream-ended is emitted.
 *
 * Streaming threads never reach this file: the pipeline and the RTMP server
 * signal on the main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-broadcasts.h"
#include "veza-db.h"
#include "veza-hls-writer.h"
#include "veza-media-pipeline.h"
#include "veza-rtmp-server.h"
#include "veza-streams-api.h"
#include "veza-secret.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define PRESENCE_WINDOW_US (30 * G_USEC_PER_SEC)
#define PRESENCE_TICK_S 1
#define MAX_VIEWERS_PER_STREAM 100000
#define SHUTDOWN_TIMEOUT_S 15
#define EDGE_PULL_DELAY_MS 500
#define PULL_RETRY_DELAY_MS 1000

typedef enum {
  SOURCE_RTMP,
  SOURCE_PULL,
  SOURCE_EXTERNAL,
} SourceKind;

typedef struct _Broadcast Broadcast;

struct _VezaBroadcasts {
  VezaServer     *server;
  VezaRtmpServer *rtmp;
  GCancellable   *cancellable;   /* cancelled when the object goes: late answers are dropped */
  GHashTable     *by_stream;     /* stream id → Broadcast */
  GHashTable     *presence;      /* stream id → (viewer id → gint64 last seen) */
  GHashTable     *edge_keys;     /* sha256 (edge key) → stream id */
  GHashTable     *edge_starting; /* stream id → PullStart, row being started */
  guint           tick_id;
  gboolean        shutting_down;
  GTask          *shutdown_task;
  guint           shutdown_timeout_id;
};

struct _Broadcast {
  VezaBroadcasts    *owner;
  char              *stream_id;
  SourceKind         kind;
  VezaRtmpSession   *session;      /* the publisher now connected, or NULL */
  gulong             session_handlers[3];
  VezaMediaPipeline *pipeline;
  gulong             pipeline_handlers[4];
  VezaMediaPipeline *draining;     /* the previous publisher's pipeline, closing its last segment */
  VezaHlsWriter     *writer;
  char              *pull_url;     /* for pulls: may hold a key; never logged */
  guint              grace_id;     /* publisher dropped, or pull upstream lost */
  guint              retry_id;
  gboolean           ending;       /* end requested: no resume any more */
  gboolean           ended;
  GPtrArray         *end_waiters;  /* GTask */
  guint64            last_bytes;
};

static void broadcast_end (Broadcast *b);
static void start_pipeline (Broadcast *b, gboolean resumed);

/* ---- helpers ------------------------------------------------------------ */

static VezaDb *
db_of (VezaBroadcasts *self)
{
  return veza_server_get_db (self->server);
}

/* TRUE when the object that started a query is gone: the callback must not
 * touch it. */
static gboolean
dropped (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static char *
stream_dir (VezaBroadcasts *self,
            const char     *stream_id)
{
  return g_build_filename (veza_server_get_media_dir (self->server), stream_id, NULL);
}

static void
update_active_count (VezaBroadcasts *self)
{
  veza_server_get_counters_mutable (self->server)->streams_active =
    g_hash_table_size (self->by_stream);
}

static void
disconnect_session (Broadcast *b)
{
  if (b->session == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (b->session_handlers); i++)
    g_clear_signal_handler (&b->session_handlers[i], b->session);
  g_clear_object (&b->session);
}

static void
disconnect_pipeline (Broadcast *b)
{
  if (b->pipeline == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (b->pipeline_handlers); i++)
    g_clear_signal_handler (&b->pipeline_handlers[i], b->pipeline);
  g_clear_object (&b->pipeline);
}

static void
on_drained (VezaMediaPipeline *pipeline,
            Broadcast         *b);

static void
broadcast_free (Broadcast *b)
{
  g_clear_handle_id (&b->grace_id, g_source_remove);
  g_clear_handle_id (&b->retry_id, g_source_remove);
  disconnect_session (b);
  if (b->pipeline != NULL)
    veza_media_pipeline_stop (b->pipeline);
  disconnect_pipeline (b);
  if (b->draining != NULL)
    {
      g_signal_handlers_disconnect_by_data (b->draining, b);
      g_clear_object (&b->draining);
    }
  g_clear_object (&b->writer);
  g_free (b->stream_id);
  g_free (b->pull_url);
  g_ptr_array_unref (b->end_waiters);
  g_free (b);
}

static Broadcast *
broadcast_new (VezaBroadcasts *self,
               const char     *stream_id,
               SourceKind      kind)
{
  Broadcast *b = g_new0 (Broadcast, 1);

  b->owner = self;
  b->stream_id = g_strdup (stream_id);
  b->kind = kind;
  b->end_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_insert (self->by_stream, b->stream_id, b);
  update_active_count (self);
  return b;
}

/* Emits @signal_name with the row's public form. */
typedef struct {
  VezaBroadcasts *self;
  char           *signal_name;
  char           *stream_id;
} EmitOp;

static void
on_row_for_signal (GObject      *source,
                   GAsyncResult *res,
                   gpointer      user_data)
{
  EmitOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (dropped (error))
    ;
  else if (r != NULL && veza_db_result_n_rows (r) == 1)
    {
      g_autoptr(JsonNode) node = veza_stream_to_json (op->self->server, r, 0, FALSE);
      veza_server_emit_stream_event (op->self->server, op->signal_name, op->stream_id,
                                     json_node_get_object (node));
    }
  else if (r == NULL)
    g_warning ("stream %s: cannot read it for %s: %s", op->stream_id, op->signal_name,
               error->message);

  g_free (op->signal_name);
  g_free (op->stream_id);
  g_free (op);
}

static void
emit_with_row (VezaBroadcasts *self,
               const char     *signal_name,
               const char     *stream_id)
{
  EmitOp *op = g_new0 (EmitOp, 1);
  const char *params[1] = { stream_id };

  op->self = self;
  op->signal_name = g_strdup (signal_name);
  op->stream_id = g_strdup (stream_id);
  veza_db_query_async (db_of (self),
                       VEZA_STREAM_BY_ID_SQL,
                       1, params, self->cancellable, on_row_for_signal, op);
}

/* ---- beginning a broadcast in the database ----------------------------- */

/* One statement: a row never started goes live itself; an ended row (or one
 * started and stopped before) hands its key to a new row with the same
 * metadata, which goes live; a row already live, or one whose key already
 * went to a successor, gives nothing (refused).
 * The key's uniqueness is checked at the end of the statement, so the key
 * can move within it. Returns the id of the live row. */
static void
begin_row_async (VezaBroadcasts      *self,
                 const char          *stream_id,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autofree char *retired = veza_secret_new_stream_key ();
  g_autofree char *retired_key = g_strconcat ("retired_", retired, NULL);
  const char *params[2] = { stream_id, retired_key };

  veza_db_query_async (db_of (self),
                       "WITH old AS ("
                       "  SELECT * FROM live_streams WHERE id = $1 FOR UPDATE),"
                       " fresh AS ("
                       "  UPDATE live_streams s SET is_live = true, started_at = now (),"
                       "    ended_at = NULL, is_vod = false, viewer_count = 0,"
                       "    stream_url = '/hls/' || s.id || '/live.m3u8', updated_at = now ()"
                       "  FROM old WHERE s.id = old.id AND NOT old.is_live"
                       "    AND old.started_at IS NULL AND old.ended_at IS NULL"
                       "  RETURNING s.id),"
                       " retire AS ("
                       "  UPDATE live_streams s SET stream_key = $2, updated_at = now ()"
                       "  FROM old WHERE s.id = old.id AND NOT old.is_live"
                       "    AND (old.started_at IS NOT NULL OR old.ended_at IS NOT NULL)"
                       "    AND old.stream_key NOT LIKE 'retired\\_%'"
                       "  RETURNING s.id),"
                       " next_id AS (SELECT gen_random_uuid () AS id),"
                       " successor AS ("
                       "  INSERT INTO live_streams (id, user_id, title, description, category, tags,"
                       "    thumbnail_url, stream_key, source_url, is_live, started_at, stream_url)"
                       "  SELECT n.id, old.user_id, old.title, old.description, old.category,"
                       "    old.tags, old.thumbnail_url, old.stream_key, old.source_url, true,"
                       "    now (), '/hls/' || n.id || '/live.m3u8'"
                       "  FROM old JOIN retire ON retire.id = old.id, next_id n"
                       "  RETURNING id)"
                       " SELECT id FROM fresh UNION ALL SELECT id FROM successor",
                       2, params, self->cancellable, callback, user_data);
}

/* ---- ending ------------------------------------------------------------- */

/* Ends row $1; $2: whether it recorded segments (then it is a VOD). */
#define END_ROW_SQL \
  "UPDATE live_streams SET is_live = false, ended_at = now ()," \
  "  is_vod = $2::boolean, viewer_count = 0," \
  "  stream_url = CASE WHEN $2::boolean THEN '/hls/' || id || '/vod.m3u8' END," \
  "  updated_at = now ()" \
  " WHERE id = $1"

static void
finish_waiters (Broadcast    *b,
                const GError *error)
{
  for (guint i = 0; i < b->end_waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (b->end_waiters, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
  g_ptr_array_set_size (b->end_waiters, 0);
}

static void maybe_finish_shutdown (VezaBroadcasts *self);

static void
on_row_ended (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  Broadcast *b = user_data;
  VezaBroadcasts *self;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (dropped (error))
    return;   /* @b went with its VezaBroadcasts */
  self = b->owner;
  if (r == NULL)
    /* The playlists are closed on disk; start-up recovery marks the row
     * ended if the database stays away until then. */
    g_warning ("stream %s: could not record the end of the broadcast: %s",
               b->stream_id, error->message);
  else
    {
      g_message ("stream %s: broadcast ended", b->stream_id);
      emit_with_row (self, "stream-ended", b->stream_id);
    }

  finish_waiters (b, r == NULL ? error : NULL);
  g_hash_table_remove (self->presence, b->stream_id);
  g_hash_table_steal (self->by_stream, b->stream_id);
  update_active_count (self);
  broadcast_free (b);
  maybe_finish_shutdown (self);
}

/* The media side is done: close the playlists and record the end. */
static void
complete_end (Broadcast *b)
{
  guint n_segments = 0;
  const char *params[2];

  if (b->ended)
    return;
  b->ended = TRUE;

  if (b->writer != NULL)
    {
      veza_hls_writer_finish (b->writer);
      n_segments = veza_hls_writer_get_n_segments (b->writer);
    }
  else
    {
      /* External ingest: nothing of ours on disk, unless a folder exists. */
      g_autofree char *dir = stream_dir (b->owner, b->stream_id);
      g_autofree char *vod = g_build_filename (dir, "vod.m3u8", NULL);

      if (g_file_test (vod, G_FILE_TEST_EXISTS) && veza_hls_finish_dir (dir, NULL))
        n_segments = 1;
    }

  params[0] = b->stream_id;
  params[1] = n_segments > 0 ? "t" : "f";
  veza_db_query_async (db_of (b->owner),
                       END_ROW_SQL " RETURNING id",
                       2, params, b->owner->cancellable, on_row_ended, b);
}

static void
broadcast_end (Broadcast *b)
{
  if (b->ending)
    return;
  b->ending = TRUE;
  g_clear_handle_id (&b->grace_id, g_source_remove);
  g_clear_handle_id (&b->retry_id, g_source_remove);

  if (b->session != NULL)
    {
      VezaRtmpSession *session = g_object_ref (b->session);

      disconnect_session (b);
      veza_rtmp_session_close (session);
      g_object_unref (session);
    }

  if (b->pipeline != NULL)
    /* complete_end() runs from the pipeline's "stopped". */
    veza_media_pipeline_stop (b->pipeline);
  else if (b->draining == NULL)
    complete_end (b);
  /* else complete_end() runs when the draining pipeline is done. */
}

static gboolean
on_grace_expired (gpointer user_data)
{
  Broadcast *b = user_data;

  b->grace_id = 0;
  g_message ("stream %s: publisher did not come back within the grace; ending", b->stream_id);
  broadcast_end (b);
  return G_SOURCE_REMOVE;
}

/* ---- the pipeline ------------------------------------------------------- */

static void
on_pipeline_created (VezaMediaPipeline *pipeline,
                     GstPipeline       *gst_pipeline,
                     GstElement        *video_tee,
                     GstElement        *audio_tee,
                     Broadcast         *b)
{
  /* The remux pipeline is built from media received: a pull whose
   * upstream was lost has it back. */
  if (b->kind == SOURCE_PULL && b->grace_id != 0)
    {
      g_clear_handle_id (&b->grace_id, g_source_remove);
      g_message ("stream %s: the pulled stream is back; broadcast continues", b->stream_id);
    }
  veza_server_emit_pipeline_created (b->owner->server, b->stream_id, gst_pipeline,
                                     video_tee, audio_tee);
}

static void
on_segment_added (VezaMediaPipeline *pipeline,
                  const char        *filename,
                  gdouble            duration,
                  Broadcast         *b)
{
  veza_server_get_counters_mutable (b->owner->server)->hls_segments_total++;
}

/* A pull may try again after this failure: its upstream is unreachable or
 * went away, which may not last. */
static gboolean
pull_may_retry (Broadcast    *b,
                const GError *error)
{
  return b->kind == SOURCE_PULL && !b->owner->shutting_down &&
         veza_server_get_config (b->owner->server)->reconnect_grace > 0 &&
         (error == NULL || g_error_matches (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_SOURCE));
}

static void
on_pipeline_error (VezaMediaPipeline *pipeline,
                   const GError      *error,
                   Broadcast         *b)
{
  if (pull_may_retry (b, error))
    {
      /* "stopped" follows; it tries again. Once per loss in the log. */
      if (b->grace_id == 0)
        g_message ("stream %s: the pull source failed: %s", b->stream_id, error->message);
      return;
    }
  g_warning ("stream %s: media pipeline failed: %s", b->stream_id, error->message);
  /* "stopped" follows; it ends the broadcast. */
  b->ending = TRUE;
  if (b->session != NULL)
    {
      VezaRtmpSession *session = g_object_ref (b->session);

      disconnect_session (b);
      veza_rtmp_session_close (session);
      g_object_unref (session);
    }
}

static gboolean retry_pull (gpointer user_data);

static gboolean
on_pull_grace_expired (gpointer user_data)
{
  Broadcast *b = user_data;

  b->grace_id = 0;
  g_message ("stream %s: the pulled stream did not come back within the grace; ending",
             b->stream_id);
  broadcast_end (b);
  return G_SOURCE_REMOVE;
}

static void
on_pipeline_stopped (VezaMediaPipeline *pipeline,
                     Broadcast         *b)
{
  disconnect_pipeline (b);

  if (b->ending)
    {
      if (b->draining == NULL)
        complete_end (b);
      return;
    }

  /* A pipeline that stopped on its own: for a pull whose upstream went
   * away (it ended its stream, failed or went idle), try again every
   * second while the grace allows; media received again (a new remux
   * pipeline) cancels the grace. For RTMP publishes the session decides
   * (closed/unpublished). */
  if (pull_may_retry (b, NULL))
    {
      if (b->grace_id == 0)
        {
          guint grace = veza_server_get_config (b->owner->server)->reconnect_grace;

          g_message ("stream %s: the pulled stream stopped; trying again for %u s",
                     b->stream_id, grace);
          b->grace_id = g_timeout_add_seconds (grace, on_pull_grace_expired, b);
        }
      b->retry_id = g_timeout_add (PULL_RETRY_DELAY_MS, retry_pull, b);
      return;
    }
  /* A publisher's pipeline that stopped by itself while the publisher is
   * still there (or gone without a grace to wait for): the broadcast ends. */
  if (b->kind == SOURCE_PULL || b->grace_id == 0)
    broadcast_end (b);
}

static void
on_drained (VezaMediaPipeline *pipeline,
            Broadcast         *b)
{
  g_signal_handlers_disconnect_by_data (pipeline, b);
  g_clear_object (&b->draining);
  if (b->ending && b->pipeline == NULL)
    complete_end (b);
}

static void
on_drain_segment_added (VezaMediaPipeline *pipeline,
                        const char        *filename,
                        gdouble            duration,
                        Broadcast         *b)
{
  veza_server_get_counters_mutable (b->owner->server)->hls_segments_total++;
}

/* The publisher went away: let its pipeline close the segment in progress
 * in the background, so that a returning publisher gets a fresh pipeline at
 * once. */
static void
drain_pipeline (Broadcast *b)
{
  VezaMediaPipeline *pipeline = g_object_ref (b->pipeline);

  disconnect_pipeline (b);
  if (b->draining != NULL)
    {
      /* Still draining an earlier one: it is stopped already, let it go. */
      g_signal_handlers_disconnect_by_data (b->draining, b);
      g_clear_object (&b->draining);
    }
  b->draining = pipeline;
  g_signal_connect (pipeline, "segment-added", G_CALLBACK (on_drain_segment_added), b);
  g_signal_connect (pipeline, "stopped", G_CALLBACK (on_drained), b);
  veza_media_pipeline_stop (pipeline);
}

static void
start_pipeline (Broadcast *b,
                gboolean   resumed)
{
  VezaConfig *config = veza_server_get_config (b->owner->server);
  g_autoptr(GError) error = NULL;

  if (b->writer == NULL)
    {
      g_autofree char *dir = stream_dir (b->owner, b->stream_id);

      b->writer = veza_hls_writer_new (dir, config->segment_duration, config->live_window, &error);
      if (b->writer == NULL)
        {
          g_warning ("stream %s: cannot prepare the HLS folder: %s", b->stream_id, error->message);
          broadcast_end (b);
          return;
        }
    }
  if (resumed)
    veza_hls_writer_mark_discontinuity (b->writer);

  if (b->kind == SOURCE_PULL)
    b->pipeline = veza_media_pipeline_new_pull (b->stream_id, b->writer, config->segment_duration,
                                                b->pull_url);
  else
    b->pipeline = veza_media_pipeline_new_push (b->stream_id, b->writer, config->segment_duration);

  b->pipeline_handlers[0] = g_signal_connect (b->pipeline, "pipeline-created",
                                              G_CALLBACK (on_pipeline_created), b);
  b->pipeline_handlers[1] = g_signal_connect (b->pipeline, "segment-added",
                                              G_CALLBACK (on_segment_added), b);
  b->pipeline_handlers[2] = g_signal_connect (b->pipeline, "error",
                                              G_CALLBACK (on_pipeline_error), b);
  b->pipeline_handlers[3] = g_signal_connect (b->pipeline, "stopped",
                                              G_CALLBACK (on_pipeline_stopped), b);

  if (!veza_media_pipeline_start (b->pipeline, &error))
    {
      g_warning ("stream %s: cannot start the media pipeline: %s", b->stream_id, error->message);
      disconnect_pipeline (b);
      broadcast_end (b);
    }
}

/* ---- RTMP sessions ------------------------------------------------------ */

static void
on_session_media (VezaRtmpSession *session,
                  guint            type,
                  guint32          timestamp,
                  GBytes          *payload,
                  Broadcast       *b)
{
  /* veza_ingest_bytes_total is refreshed by the once-a-second tick. */
  if (b->pipeline != NULL)
    veza_media_pipeline_push_tag (b->pipeline, type, timestamp, payload);
}

static void
on_session_unpublished (VezaRtmpSession *session,
                        Broadcast       *b)
{
  g_message ("stream %s: publisher unpublished", b->stream_id);
  /* The publisher closes its connection itself (as it expects to); closing
   * it from here would make it report an error. */
  disconnect_session (b);
  broadcast_end (b);
}

static void
on_session_closed (VezaRtmpSession *session,
                   const GError    *error,
                   Broadcast       *b)
{
  guint grace = veza_server_get_config (b->owner->server)->reconnect_grace;

  disconnect_session (b);
  if (b->ending)
    return;

  if (grace == 0 || b->owner->shutting_down)
    {
      broadcast_end (b);
      return;
    }
  g_message ("stream %s: publisher dropped; waiting %u s for it to come back",
             b->stream_id, grace);
  b->grace_id = g_timeout_add_seconds (grace, on_grace_expired, b);

  /* Close the segment in progress now, so that what was received is
   * playable during the grace; a publisher that comes back gets a new
   * pipeline after a discontinuity. */
  if (b->pipeline != NULL)
    drain_pipeline (b);
}

static void
attach_session (Broadcast       *b,
                VezaRtmpSession *session)
{
  b->session = g_object_ref (session);
  b->session_handlers[0] = g_signal_connect (session, "media",
                                             G_CALLBACK (on_session_media), b);
  b->session_handlers[1] = g_signal_connect (session, "unpublished",
                                             G_CALLBACK (on_session_unpublished), b);
  b->session_handlers[2] = g_signal_connect (session, "closed",
                                             G_CALLBACK (on_session_closed), b);
}

typedef struct {
  VezaBroadcasts  *self;
  VezaRtmpSession *session;
  gboolean         closed;
  gulong           closed_id;
} PendingPublish;

static void
pending_free (PendingPublish *p)
{
  g_clear_signal_handler (&p->closed_id, p->session);
  g_object_unref (p->session);
  g_free (p);
}

static void
on_pending_closed (VezaRtmpSession *session,
                   const GError    *error,
                   PendingPublish  *p)
{
  p->closed = TRUE;
}

static void
on_row_begun (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  PendingPublish *p = user_data;
  VezaBroadcasts *self = p->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  const char *stream_id;
  Broadcast *b;

  if (dropped (error))
    {
      pending_free (p);
      return;
    }
  if (r == NULL || veza_db_result_n_rows (r) != 1)
    {
      if (r == NULL)
        g_warning ("cannot start a broadcast: %s", error->message);
      else
        g_message ("publish from %s refused: the stream is already live",
                   veza_rtmp_session_get_remote_address (p->session));
      if (!p->closed)
        veza_rtmp_session_reject_publish (p->session, "NetStream.Publish.BadName",
                                          r == NULL ? "Service unavailable"
                                                    : "Stream already publishing");
      pending_free (p);
      return;
    }

  stream_id = veza_db_result_get (r, 0, "id");
  if (p->closed || self->shutting_down)
    {
      /* The publisher left while the row was being started: begin and end
       * at once so that the row does not stay live. */
      b = broadcast_new (self, stream_id, SOURCE_RTMP);
      broadcast_end (b);
      pending_free (p);
      return;
    }

  b = broadcast_new (self, stream_id, SOURCE_RTMP);
  attach_session (b, p->session);
  start_pipeline (b, FALSE);
  if (!b->ending)
    {
      veza_rtmp_session_accept_publish (p->session);
      g_message ("stream %s: live from %s", stream_id,
                 veza_rtmp_session_get_remote_address (p->session));
      emit_with_row (self, "stream-started", stream_id);
    }
  pending_free (p);
}

static void
on_publish_authorized (VezaPublishAuth *auth,
                       gboolean         allowed,
                       const char      *stream_id,
                       const char      *reason,
                       gpointer         user_data)
{
  PendingPublish *p = user_data;
  VezaBroadcasts *self = p->self;
  Broadcast *b;

  if (p->closed)
    {
      pending_free (p);
      return;
    }
  if (!allowed)
    {
      veza_rtmp_session_reject_publish (p->session, "NetStream.Publish.BadName",
                                        "Invalid stream key");
      pending_free (p);
      return;
    }

  b = g_hash_table_lookup (self->by_stream, stream_id);
  if (b != NULL)
    {
      if (b->session != NULL || b->ending || b->kind != SOURCE_RTMP || b->pipeline != NULL)
        {
          g_message ("publish from %s refused: stream %s already has a publisher",
                     veza_rtmp_session_get_remote_address (p->session), stream_id);
          veza_rtmp_session_reject_publish (p->session, "NetStream.Publish.BadName",
                                            "Stream already publishing");
        }
      else
        {
          /* Back within the grace: the same broadcast goes on. */
          g_clear_handle_id (&b->grace_id, g_source_remove);
          attach_session (b, p->session);
          start_pipeline (b, TRUE);
          if (!b->ending)
            {
              veza_rtmp_session_accept_publish (p->session);
              g_message ("stream %s: publisher came back; broadcast continues", stream_id);
            }
        }
      pending_free (p);
      return;
    }

  begin_row_async (self, stream_id, on_row_begun, p);
}

/* "203.0.113.5:50123" or "[2001:db8::1]:50123" → the address alone, which
 * is what rate limits and logs of a publisher are about. */
static char *
host_of (const char *peer)
{
  const char *colon;

  if (peer[0] == '[')
    {
      const char *end = strchr (peer, ']');
      return end != NULL ? g_strndup (peer + 1, end - peer - 1) : g_strdup (peer);
    }
  colon = strrchr (peer, ':');
  if (colon != NULL && strchr (peer, ':') == colon)
    return g_strndup (peer, colon - peer);
  return g_strdup (peer);
}

static void
on_rtmp_publish (VezaRtmpServer  *rtmp,
                 VezaRtmpSession *session,
                 const char      *app,
                 const char      *stream_name,
                 VezaBroadcasts  *self)
{
  PendingPublish *p;
  g_autoptr(VezaPublishAuth) auth = NULL;
  g_autofree char *host = NULL;

  if (self->shutting_down)
    {
      veza_rtmp_session_reject_publish (session, "NetStream.Publish.BadName",
                                        "Server shutting down");
      return;
    }

  p = g_new0 (PendingPublish, 1);
  p->self = self;
  p->session = g_object_ref (session);
  p->closed_id = g_signal_connect (session, "closed", G_CALLBACK (on_pending_closed), p);

  host = host_of (veza_rtmp_session_get_remote_address (session));
  auth = veza_publish_auth_new (app, stream_name, host, on_publish_authorized, p);
  veza_server_authorize_publish (self->server, auth);
}

/* ---- pulls -------------------------------------------------------------- */

static gboolean
retry_pull (gpointer user_data)
{
  Broadcast *b = user_data;

  b->retry_id = 0;
  if (b->ending)
    return G_SOURCE_REMOVE;
  /* The first attempt of an edge pull comes here too, before any writer. */
  start_pipeline (b, b->writer != NULL && veza_hls_writer_get_n_segments (b->writer) > 0);
  return G_SOURCE_REMOVE;
}

typedef struct {
  VezaBroadcasts *self;
  GTask          *task;
  char           *url;
  gboolean        from_edge;
  char           *stream_id;     /* edge pulls: as authorised (the live row may be its successor) */
  char           *key_hash;      /* edge pulls */
  gboolean        unpublished;   /* edge pulls: the edge's publisher left meanwhile */
} PullStart;

static void
pull_start_free (PullStart *ps)
{
  g_clear_object (&ps->task);
  g_free (ps->url);
  g_free (ps->stream_id);
  g_free (ps->key_hash);
  g_free (ps);
}

static void
on_pull_row_begun (GObject      *source,
                   GAsyncResult *res,
                   gpointer      user_data)
{
  PullStart *ps = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  Broadcast *b;

  if (dropped (error) && ps->task == NULL)
    {
      /* @ps->self is gone */
      pull_start_free (ps);
      return;
    }
  if (ps->from_edge)
    g_hash_table_remove (ps->self->edge_starting, ps->stream_id);

  if (r == NULL)
    {
      if (ps->task != NULL)
        g_task_return_error (ps->task, g_steal_pointer (&error));
      else
        g_warning ("cannot start a pulled broadcast: %s", error->message);
    }
  else if (veza_db_result_n_rows (r) != 1)
    {
      if (ps->task != NULL)
        g_task_return_new_error (ps->task, G_IO_ERROR, G_IO_ERROR_EXISTS, "already live");
    }
  else
    {
      const char *stream_id = veza_db_result_get (r, 0, "id");

      b = broadcast_new (ps->self, stream_id, SOURCE_PULL);
      b->pull_url = g_strdup (ps->url);
      if (ps->unpublished || ps->self->shutting_down)
        {
          /* The edge's publisher left, or the server is going away, while
           * the row was being started: begin and end at once. */
          broadcast_end (b);
          if (ps->task != NULL)
            g_task_return_new_error (ps->task, G_IO_ERROR, G_IO_ERROR_CLOSED,
                                     "The server is shutting down");
          pull_start_free (ps);
          return;
        }
      if (ps->from_edge)
        {
          /* The edge's publisher ends the live row, which may be a
           * successor of the row its key was checked against. */
          g_hash_table_replace (ps->self->edge_keys, g_strdup (ps->key_hash), g_strdup (stream_id));
          /* Edge publishes may take a moment to reach the edge after its
           * callback answered: the first attempt waits a little. */
          b->retry_id = g_timeout_add (EDGE_PULL_DELAY_MS, retry_pull, b);
        }
      else
        start_pipeline (b, FALSE);
      g_message ("stream %s: pulling%s", stream_id, ps->from_edge ? " from the edge" : "");
      emit_with_row (ps->self, "stream-started", stream_id);
      if (ps->task != NULL)
        g_task_return_pointer (ps->task, g_strdup (stream_id), g_free);
    }

  pull_start_free (ps);
}

static void
on_pull_source (GObject      *source,
                GAsyncResult *res,
                gpointer      user_data)
{
  PullStart *ps = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  const char *url;

  if (r == NULL)
    g_task_return_error (ps->task, g_steal_pointer (&error));
  else if (veza_db_result_n_rows (r) != 1)
    g_task_return_new_error (ps->task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such stream");
  else if ((url = veza_db_result_get (r, 0, "source_url")) == NULL)
    g_task_return_new_error (ps->task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no source_url");
  else if (veza_db_result_get (r, 0, "is_live")[0] == 't' ||
           g_hash_table_contains (ps->self->by_stream, veza_db_result_get (r, 0, "id")))
    g_task_return_new_error (ps->task, G_IO_ERROR, G_IO_ERROR_EXISTS, "already live");
  else
    {
      ps->url = g_strdup (url);
      begin_row_async (ps->self, veza_db_result_get (r, 0, "id"), on_pull_row_begun, ps);
      return;
    }

  pull_start_free (ps);
}

void
veza_broadcasts_start_pull_async (VezaBroadcasts      *self,
                                  const char          *stream_id,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  PullStart *ps = g_new0 (PullStart, 1);
  const char *params[1] = { stream_id };

  ps->self = self;
  ps->task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (ps->task, veza_broadcasts_start_pull_async);
  veza_db_query_async (db_of (self),
                       "SELECT id, source_url, is_live FROM live_streams WHERE id = $1",
                       1, params, NULL, on_pull_source, ps);
}

char *
veza_broadcasts_start_pull_finish (VezaBroadcasts  *self,
                                   GAsyncResult    *result,
                                   GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
veza_broadcasts_is_busy (VezaBroadcasts *self,
                         const char     *stream_id)
{
  return g_hash_table_contains (self->by_stream, stream_id) ||
         g_hash_table_contains (self->edge_starting, stream_id);
}

void
veza_broadcasts_pull_from_edge (VezaBroadcasts *self,
                                const char     *stream_id,
                                const char     *pull_url)
{
  PullStart *ps;
  const char *key;

  if (veza_broadcasts_is_busy (self, stream_id))
    return;
  if (pull_url == NULL)
    {
      g_warning ("stream %s: the edge did not say where it is (no tcurl); not pulling", stream_id);
      return;
    }

  ps = g_new0 (PullStart, 1);
  ps->self = self;
  ps->url = g_strdup (pull_url);
  ps->from_edge = TRUE;
  ps->stream_id = g_strdup (stream_id);
  key = strrchr (pull_url, '/');
  ps->key_hash = veza_secret_hash (key != NULL ? key + 1 : pull_url);
  g_hash_table_insert (self->edge_starting, ps->stream_id, ps);
  begin_row_async (self, stream_id, on_pull_row_begun, ps);
}

void
veza_broadcasts_edge_unpublished_async (VezaBroadcasts      *self,
                                        const char          *key,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  g_autofree char *hash = veza_secret_hash (key);
  const char *stream_id = g_hash_table_lookup (self->edge_keys, hash);
  Broadcast *b = stream_id != NULL ? g_hash_table_lookup (self->by_stream, stream_id) : NULL;
  GHashTableIter iter;
  gpointer value;
  gboolean found = b != NULL;

  /* A pull whose row is still being started ends as soon as it is. */
  g_hash_table_iter_init (&iter, self->edge_starting);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PullStart *ps = value;

      if (g_str_equal (ps->key_hash, hash))
        {
          ps->unpublished = TRUE;
          found = TRUE;
        }
    }
  if (b != NULL && b->kind == SOURCE_PULL)
    broadcast_end (b);
  g_hash_table_remove (self->edge_keys, hash);
  g_task_return_boolean (task, found);
}

/* ---- external ingest and API-driven ends -------------------------------- */

static void
on_external_row_begun (GObject      *source,
                       GAsyncResult *res,
                       gpointer      user_data)
{
  GTask *task = user_data;
  VezaBroadcasts *self = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    g_task_return_error (task, error);
  else if (veza_db_result_n_rows (r) != 1)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS, "already live");
  else
    {
      const char *stream_id = veza_db_result_get (r, 0, "id");

      broadcast_new (self, stream_id, SOURCE_EXTERNAL);
      g_message ("stream %s: live through an external ingest", stream_id);
      emit_with_row (self, "stream-started", stream_id);
      g_task_return_pointer (task, g_strdup (stream_id), g_free);
    }
  g_object_unref (task);
}

static void
on_external_exists (GObject      *source,
                    GAsyncResult *res,
                    gpointer      user_data)
{
  GTask *task = user_data;
  VezaBroadcasts *self = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    g_task_return_error (task, error);
  else if (veza_db_result_n_rows (r) != 1)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such stream");
  else
    {
      begin_row_async (self, veza_db_result_get (r, 0, "id"), on_external_row_begun, task);
      return;
    }
  g_object_unref (task);
}

void
veza_broadcasts_start_external_async (VezaBroadcasts      *self,
                                      const char          *stream_id,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  const char *params[1] = { stream_id };

  g_task_set_task_data (task, self, NULL);
  if (g_hash_table_contains (self->by_stream, stream_id))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS, "already live");
      g_object_unref (task);
      return;
    }
  veza_db_query_async (db_of (self), "SELECT id FROM live_streams WHERE id = $1",
                       1, params, NULL, on_external_exists, task);
}

char *
veza_broadcasts_start_external_finish (VezaBroadcasts  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A row that is live in the database but has no broadcast here (another
 * node's, or one left by a crash before recovery): end it in the database. */
static void
on_orphan_ended (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  GTask *task = user_data;
  VezaBroadcasts *self = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    g_task_return_error (task, error);
  else if (veza_db_result_n_rows (r) == 0)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "not live");
  else
    {
      const char *id = veza_db_result_get (r, 0, "id");

      emit_with_row (self, "stream-ended", id);
      g_task_return_boolean (task, TRUE);
    }
  g_object_unref (task);
}

void
veza_broadcasts_end_async (VezaBroadcasts      *self,
                           const char          *stream_id,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Broadcast *b = g_hash_table_lookup (self->by_stream, stream_id);

  g_task_set_source_tag (task, veza_broadcasts_end_async);
  g_task_set_task_data (task, self, NULL);

  if (b != NULL)
    {
      g_ptr_array_add (b->end_waiters, task);
      broadcast_end (b);
      return;
    }

  {
    g_autofree char *dir = stream_dir (self, stream_id);
    g_autofree char *vod = g_build_filename (dir, "vod.m3u8", NULL);
    gboolean has_vod = g_file_test (vod, G_FILE_TEST_EXISTS) && veza_hls_finish_dir (dir, NULL);
    const char *params[2] = { stream_id, has_vod ? "t" : "f" };

    veza_db_query_async (db_of (self),
                         END_ROW_SQL " AND is_live RETURNING id",
                         2, params, NULL, on_orphan_ended, task);
  }
}

gboolean
veza_broadcasts_end_finish (VezaBroadcasts  *self,
                            GAsyncResult    *result,
                            GError         **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- presence ----------------------------------------------------------- */

void
veza_broadcasts_viewer_seen (VezaBroadcasts *self,
                             const char     *stream_id,
                             const char     *viewer_id)
{
  GHashTable *viewers;

  /* Only broadcasts live here have presence; a replay is not "watching live". */
  if (!g_hash_table_contains (self->by_stream, stream_id))
    return;

  viewers = g_hash_table_lookup (self->presence, stream_id);
  if (viewers == NULL)
    {
      viewers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (self->presence, g_strdup (stream_id), viewers);
    }
  if (!g_hash_table_contains (viewers, viewer_id))
    {
      if (g_hash_table_size (viewers) >= MAX_VIEWERS_PER_STREAM)
        return;
      veza_server_get_counters_mutable (self->server)->stream_viewer_joins_total++;
      veza_server_get_counters_mutable (self->server)->stream_viewers++;
      veza_server_emit_viewer (self->server, TRUE, stream_id, viewer_id);
    }
  /* The value is the last-seen time in seconds of the monotonic clock. */
  g_hash_table_replace (viewers, g_strdup (viewer_id),
                        GSIZE_TO_POINTER ((gsize) (g_get_monotonic_time () / G_USEC_PER_SEC)));
}

void
veza_broadcasts_viewer_gone (VezaBroadcasts *self,
                             const char     *stream_id,
                             const char     *viewer_id)
{
  GHashTable *viewers = g_hash_table_lookup (self->presence, stream_id);

  if (viewers != NULL && g_hash_table_remove (viewers, viewer_id))
    {
      veza_server_get_counters_mutable (self->server)->stream_viewers--;
      veza_server_emit_viewer (self->server, FALSE, stream_id, viewer_id);
    }
}

gint
veza_broadcasts_get_viewer_count (VezaBroadcasts *self,
                                  const char     *stream_id)
{
  Broadcast *b = g_hash_table_lookup (self->by_stream, stream_id);
  GHashTable *viewers;

  if (b == NULL)
    return -1;
  viewers = g_hash_table_lookup (self->presence, stream_id);
  /* An external ingest counts its listeners itself (listener_joined and
   * listener_left keep the row's viewer_count): no presence here is no
   * figure here. */
  if (viewers == NULL && b->kind == SOURCE_EXTERNAL)
    return -1;
  return viewers != NULL ? (gint) g_hash_table_size (viewers) : 0;
}

static void
on_viewer_count_stored (GObject      *source,
                        GAsyncResult *res,
                        gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  /* Best effort: the next tick stores it again. */
  if (r == NULL)
    g_debug ("viewer count not stored: %s", error->message);
}

static gboolean
on_tick (gpointer user_data)
{
  VezaBroadcasts *self = user_data;
  gsize now = (gsize) (g_get_monotonic_time () / G_USEC_PER_SEC);
  GHashTableIter iter;
  gpointer key, value;
  guint64 total = 0;

  g_hash_table_iter_init (&iter, self->presence);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *stream_id = key;
      GHashTable *viewers = value;
      GHashTableIter vi;
      gpointer vkey, vvalue;
      guint before = g_hash_table_size (viewers);

      g_hash_table_iter_init (&vi, viewers);
      while (g_hash_table_iter_next (&vi, &vkey, &vvalue))
        if (now - GPOINTER_TO_SIZE (vvalue) > PRESENCE_WINDOW_US / G_USEC_PER_SEC)
          {
            veza_server_emit_viewer (self->server, FALSE, stream_id, vkey);
            g_hash_table_iter_remove (&vi);
          }
      total += g_hash_table_size (viewers);

      /* Keep the row's figure current for other nodes and listings. */
      if (before != g_hash_table_size (viewers) || now % 5 == 0)
        {
          g_autofree char *count = g_strdup_printf ("%u", g_hash_table_size (viewers));
          const char *params[2] = { stream_id, count };

          veza_db_query_async (db_of (self),
                               "UPDATE live_streams SET viewer_count = $2::int"
                               " WHERE id = $1 AND is_live AND viewer_count <> $2::int",
                               2, params, NULL, on_viewer_count_stored, NULL);
        }
    }

  veza_server_get_counters_mutable (self->server)->stream_viewers = total;
  if (self->rtmp != NULL)
    {
      VezaCounters *c = veza_server_get_counters_mutable (self->server);

      c->rtmp_connections = veza_rtmp_server_get_n_sessions (self->rtmp);
      c->ingest_bytes_total = veza_rtmp_server_get_bytes_received (self->rtmp);
    }
  return G_SOURCE_CONTINUE;
}

/* ---- media folders ------------------------------------------------------ */

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  return g_rmdir (path) == 0;
}

static void
delete_media_thread (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  remove_tree (task_data);
  g_task_return_boolean (task, TRUE);
}

void
veza_broadcasts_delete_media (VezaBroadcasts *self,
                              const char     *stream_id)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_return_if_fail (stream_id != NULL && strchr (stream_id, '/') == NULL);
  g_task_set_task_data (task, stream_dir (self, stream_id), g_free);
  g_task_run_in_thread (task, delete_media_thread);
}

/* ---- start-up recovery -------------------------------------------------- */

static void
on_recovered (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    g_warning ("could not close broadcasts left live: %s", error->message);
  else if (veza_db_result_n_rows (r) > 0)
    g_message (ngettext ("closed %d broadcast left live by an earlier run",
                         "closed %d broadcasts left live by an earlier run",
                         veza_db_result_n_rows (r)), veza_db_result_n_rows (r));
}

static void
on_stale_rows (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  VezaBroadcasts *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(GString) with_vod = g_string_new ("{");
  g_autoptr(GString) without = g_string_new ("{");
  const char *params[2];

  if (dropped (error))
    return;
  if (r == NULL)
    {
      g_warning ("could not look for broadcasts left live: %s", error->message);
      return;
    }

  for (int i = 0; i < veza_db_result_n_rows (r); i++)
    {
      const char *id = veza_db_result_get (r, i, "id");
      g_autofree char *dir = stream_dir (self, id);
      GString *list;

      list = veza_hls_finish_dir (dir, NULL) ? with_vod : without;
      if (list->len > 1)
        g_string_append_c (list, ',');
      g_string_append (list, id);
    }
  g_string_append_c (with_vod, '}');
  g_string_append_c (without, '}');

  params[0] = with_vod->str;
  params[1] = without->str;
  veza_db_query_async (db_of (self),
                       "UPDATE live_streams SET is_live = false, viewer_count = 0,"
                       "  ended_at = COALESCE (ended_at, now ()), updated_at = now (),"
                       "  is_vod = (id = ANY ($1::uuid[])),"
                       "  stream_url = CASE WHEN id = ANY ($1::uuid[])"
                       "                THEN '/hls/' || id || '/vod.m3u8' END"
                       " WHERE is_live AND (id = ANY ($1::uuid[]) OR id = ANY ($2::uuid[]))"
                       " RETURNING id",
                       2, params, NULL, on_recovered, NULL);
}

/* ---- life of the object ------------------------------------------------- */

VezaBroadcasts *
veza_broadcasts_new (VezaServer *server)
{
  VezaBroadcasts *self = g_new0 (VezaBroadcasts, 1);

  self->server = server;
  self->cancellable = g_cancellable_new ();
  self->by_stream = g_hash_table_new (g_str_hash, g_str_equal);
  self->presence = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_hash_table_unref);
  self->edge_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->edge_starting = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

gboolean
veza_broadcasts_start (VezaBroadcasts  *self,
                       guint16         *out_rtmp_port,
                       GError         **error)
{
  VezaConfig *config = veza_server_get_config (self->server);
  g_autofree char *host = NULL;

  self->rtmp = veza_rtmp_server_new (NULL);
  if (!veza_rtmp_server_listen (self->rtmp, config->rtmp_address, config->rtmp_port,
                                out_rtmp_port, error))
    {
      g_prefix_error (error, _("Cannot listen for RTMP on %s:%u: "), config->rtmp_address,
                      config->rtmp_port);
      return FALSE;
    }
  g_signal_connect (self->rtmp, "publish", G_CALLBACK (on_rtmp_publish), self);
  host = strchr (config->rtmp_address, ':') != NULL
         ? g_strdup_printf ("[%s]", config->rtmp_address) : g_strdup (config->rtmp_address);
  /* Not translated: scripts read the port from this line. */
  g_message ("listening on rtmp://%s:%u", host, *out_rtmp_port);

  /* Broadcasts a crash left live: close their playlists and rows. */
  veza_db_query_async (db_of (self), "SELECT id FROM live_streams WHERE is_live",
                       0, NULL, self->cancellable, on_stale_rows, self);

  self->tick_id = g_timeout_add_seconds (PRESENCE_TICK_S, on_tick, self);
  return TRUE;
}

static void
maybe_finish_shutdown (VezaBroadcasts *self)
{
  GTask *task;

  if (self->shutdown_task == NULL || g_hash_table_size (self->by_stream) > 0)
    return;
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  task = g_steal_pointer (&self->shutdown_task);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_shutdown_timeout (gpointer user_data)
{
  VezaBroadcasts *self = user_data;
  GTask *task = g_steal_pointer (&self->shutdown_task);

  self->shutdown_timeout_id = 0;
  g_warning ("%u broadcasts did not close in time", g_hash_table_size (self->by_stream));
  g_task_return_boolean (task, FALSE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

void
veza_broadcasts_shutdown_async (VezaBroadcasts      *self,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GPtrArray) all = NULL;

  self->shutting_down = TRUE;
  self->shutdown_task = g_task_new (NULL, NULL, callback, user_data);
  self->shutdown_timeout_id = g_timeout_add_seconds (SHUTDOWN_TIMEOUT_S, on_shutdown_timeout, self);

  /* Ending a broadcast may remove it from the table at once. */
  all = g_ptr_array_new ();
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->by_stream);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_ptr_array_add (all, value);
  }
  for (guint i = 0; i < all->len; i++)
    broadcast_end (g_ptr_array_index (all, i));
  maybe_finish_shutdown (self);
}

void
veza_broadcasts_free (VezaBroadcasts *self)
{
  GHashTableIter iter;
  gpointer value;

  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->rtmp != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->rtmp, self);
      veza_rtmp_server_stop (self->rtmp);
    }
  g_hash_table_iter_init (&iter, self->by_stream);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Broadcast *b = value;

      g_hash_table_iter_steal (&iter);
      finish_waiters (b, NULL);
      broadcast_free (b);
    }
  g_hash_table_unref (self->by_stream);
  g_hash_table_unref (self->presence);
  g_hash_table_unref (self->edge_keys);
  g_hash_table_unref (self->edge_starting);
  g_clear_object (&self->rtmp);
  if (self->shutdown_task != NULL)
    {
      g_task_return_boolean (self->shutdown_task, FALSE);
      g_clear_object (&self->shutdown_task);
    }
  g_free (self);
}
