/* veza-media-pipeline.c: the GStreamer pipeline of one live stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Push mode (the built-in RTMP ingest hands us FLV tag bodies):
 *
 *   vezaflvsrc (FLV bytes we frame ourselves) ! flvdemux
 *     flvdemux.video ! h264parse ! tee (video) ! vezahlssink.video
 *     flvdemux.audio ! aacparse ! tee (audio) ! vezahlssink.audio
 *
 * No streaming thread of its own: the source pushes each tag in the
 * caller's thread (the main context's, which reads the RTMP connection),
 * and the sink muxes it into MPEG-TS and writes it before the push
 * returns (see veza-flv-src.c and veza-hls-sink.c).  A tag therefore never
 * crosses a thread, and nothing queues up between the publisher and the
 * segment file.  Branches that plugins add to the tees must begin with a
 * queue, as usual after a tee.
 *
 * A new segment begins at the first keyframe that reaches the target
 * duration, and is handed to the main context as soon as that keyframe
 * reaches the sink.
 *
 * Pull mode: a small source pipeline `rtmp2src ! appsink` receives the FLV
 * stream of an upstream server; its bytes are parsed into tags on the main
 * context and fed to the very same remux pipeline, so both modes share one
 * code path (track detection, codec checks, timestamps, bounded queue).
 *
 * Which tracks exist is learnt from the first tags: the remux pipeline is
 * built once both kinds were seen, or once one kind alone spans a second
 * (or many tags); the tags seen until then are kept and pushed first, so the
 * AVC sequence header and the AAC configuration are never lost.
 *
 * Fragments are recorded under a hidden temporary name; once closed, they
 * are announced with a bus message, renamed to the writer's next segment
 * name and added to the playlists on the main context.  The only other
 * thread is rtmp2src's in pull mode, which touches the pulled bytes under
 * the lock and nothing else.
 */

#include "veza-media-pipeline.h"
#include "veza-flv.h"
#include "veza-bus-source.h"
#include "veza-flv-src.h"
#include "veza-hls-sink.h"

#include <errno.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (veza_media_debug);
#define GST_CAT_DEFAULT veza_media_debug

#define STOP_TIMEOUT_MS 5000
#define PROBE_MAX_SPAN_MS 1000
#define PROBE_MAX_TAGS 120
#define PROBE_MAX_BYTES (4 * 1024 * 1024)
#define PULL_IDLE_TIMEOUT_S 30

typedef enum
{
  STATE_NEW,
  STATE_PROBING,        /* started, learning which tracks exist */
  STATE_RUNNING,        /* remux pipeline built and playing */
  STATE_STOPPING,       /* EOS sent, waiting for it at the bus */
  STATE_FINISHING,      /* teardown scheduled on the main context */
  STATE_STOPPED,
} State;

struct _VezaMediaPipeline
{
  GObject parent_instance;

  /* immutable after construction */
  char *stream_id;
  VezaHlsWriter *writer;
  char *dir;
  guint segment_duration_s;
  char *rtmp_url;               /* pull mode; may contain a secret: never logged */
  guint serial;
  GMainContext *context;

  State state;
  GError *finish_error;
  GSource *finish_source;
  GSource *stop_timeout;

  /* track detection */
  GPtrArray *pending_tags;      /* VezaFlvTag* */
  gsize pending_bytes;
  guint n_audio;
  guint n_video;
  gboolean have_ts;
  guint32 min_ts;
  guint32 max_ts;
  gboolean has_audio;
  gboolean has_video;
  guint32 ts_base;
  gboolean seen_keyframe;

  /* remux pipeline */
  GstPipeline *pipeline;
  GSource *bus_source;
  GstElement *flv_src;
  GstElement *video_parse;
  GstElement *audio_parse;
  GstElement *video_tee;
  GstElement *audio_tee;
  GstElement *hls_sink;

  /* pull source */
  GstElement *src_pipeline;
  GSource *src_bus_source;
  GSource *drain_source;
  VezaFlvParser *parser;

  GMutex lock;
  GByteArray *incoming;         /* under lock: bytes from rtmp2src */
  gboolean incoming_overflow;   /* under lock */

  guint64 bytes_in;
};

enum
{
  SIGNAL_PIPELINE_CREATED,
  SIGNAL_SEGMENT_ADDED,
  SIGNAL_ERROR,
  SIGNAL_STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];
static guint pipeline_serial;

G_DEFINE_FINAL_TYPE (VezaMediaPipeline, veza_media_pipeline, G_TYPE_OBJECT)

static void schedule_finish (VezaMediaPipeline *self, GError *error);
static void do_finish (VezaMediaPipeline *self, GError *error);

/* Drops the fragment being recorded and those closed but not published:
 * none of them is a segment.  No streaming thread may run. */
static void
discard_recordings (VezaMediaPipeline *self)
{
  if (self->hls_sink != NULL && veza_hls_sink_discard (VEZA_HLS_SINK (self->hls_sink)))
    GST_INFO ("stream %s: dropping the unfinished fragment", self->stream_id);
}

static void
remove_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Stops both pipelines; no streaming thread runs after this. */
static void
shutdown_pipelines (VezaMediaPipeline *self)
{
  veza_bus_source_destroy (&self->src_bus_source);
  if (self->src_pipeline != NULL)
    {
      gst_element_set_state (self->src_pipeline, GST_STATE_NULL);
      gst_clear_object (&self->src_pipeline);
    }

  veza_bus_source_destroy (&self->bus_source);
  if (self->pipeline != NULL)
    gst_element_set_state (GST_ELEMENT (self->pipeline), GST_STATE_NULL);
}

static void
veza_media_pipeline_dispose (GObject *object)
{
  VezaMediaPipeline *self = VEZA_MEDIA_PIPELINE (object);

  shutdown_pipelines (self);
  remove_source (&self->drain_source);
  remove_source (&self->stop_timeout);
  remove_source (&self->finish_source);

  discard_recordings (self);

  g_clear_object (&self->flv_src);
  g_clear_object (&self->video_parse);
  g_clear_object (&self->audio_parse);
  g_clear_object (&self->video_tee);
  g_clear_object (&self->audio_tee);
  g_clear_object (&self->hls_sink);
  gst_clear_object (&self->pipeline);
  g_clear_object (&self->writer);

  G_OBJECT_CLASS (veza_media_pipeline_parent_class)->dispose (object);
}

static void
veza_media_pipeline_finalize (GObject *object)
{
  VezaMediaPipeline *self = VEZA_MEDIA_PIPELINE (object);

  g_free (self->stream_id);
  g_free (self->dir);
  g_free (self->rtmp_url);
  g_clear_error (&self->finish_error);
  g_ptr_array_unref (self->pending_tags);
  g_clear_pointer (&self->parser, veza_flv_parser_free);
  g_byte_array_unref (self->incoming);
  g_mutex_clear (&self->lock);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (veza_media_pipeline_parent_class)->finalize (object);
}

static void
veza_media_pipeline_class_init (VezaMediaPipelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = veza_media_pipeline_dispose;
  object_class->finalize = veza_media_pipeline_finalize;

  GST_DEBUG_CATEGORY_INIT (veza_media_debug, "veza-media", 0, "Veza per-stream pipelines");

  /**
   * VezaMediaPipeline::pipeline-created:
   * @self: the #VezaMediaPipeline
   * @pipeline: the remux #GstPipeline
   * @video_tee: (nullable): tee after the H.264 parser (byte-stream, AU)
   * @audio_tee: (nullable): tee after the AAC parser
   *
   * Emitted once the branches exist, before the pipeline plays.  Handlers
   * may request tee pads and add elements.  Data flows through the tees in
   * the thread that pushes the tags (the main loop's): a branch starts
   * with a queue, and its sinks should set async=false.
   */
  signals[SIGNAL_PIPELINE_CREATED] =
    g_signal_new ("pipeline-created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  GST_TYPE_PIPELINE, GST_TYPE_ELEMENT, GST_TYPE_ELEMENT);

  /**
   * VezaMediaPipeline::segment-added:
   * @self: the #VezaMediaPipeline
   * @filename: base name of the segment in the broadcast's folder
   * @duration_s: its duration
   *
   * Emitted after the writer added the segment to the playlists.
   */
  signals[SIGNAL_SEGMENT_ADDED] =
    g_signal_new ("segment-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DOUBLE);

  /**
   * VezaMediaPipeline::error:
   * @self: the #VezaMediaPipeline
   * @error: what failed
   *
   * The pipeline failed and is already torn down; "stopped" follows.
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * VezaMediaPipeline::stopped:
   * @self: the #VezaMediaPipeline
   *
   * Emitted exactly once per started pipeline, after stop() completed, the
   * pull source ended, or an error.
   */
  signals[SIGNAL_STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
veza_media_pipeline_init (VezaMediaPipeline *self)
{
  g_mutex_init (&self->lock);
  self->pending_tags = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_flv_tag_free);
  self->incoming = g_byte_array_new ();
  self->context = g_main_context_ref_thread_default ();
  self->serial = g_atomic_int_add (&pipeline_serial, 1);
}

static VezaMediaPipeline *
pipeline_new (const char *stream_id, VezaHlsWriter *writer, guint segment_duration_s)
{
  VezaMediaPipeline *self = g_object_new (VEZA_TYPE_MEDIA_PIPELINE, NULL);

  self->stream_id = g_strdup (stream_id);
  self->writer = g_object_ref (writer);
  self->dir = g_strdup (veza_hls_writer_get_dir (writer));
  self->segment_duration_s = MAX (segment_duration_s, 1);
  return self;
}

/**
 * veza_media_pipeline_new_push:
 * @stream_id: the stream's UUID (used in logs and element names)
 * @writer: the broadcast's playlists
 * @segment_duration_s: target segment duration
 *
 * A pipeline fed with veza_media_pipeline_push_tag().  Signals are emitted
 * on the thread-default main context of the caller.
 *
 * Returns: (transfer full): a new pipeline, not started
 */
VezaMediaPipeline *
veza_media_pipeline_new_push (const char *stream_id, VezaHlsWriter *writer, guint segment_duration_s)
{
  g_return_val_if_fail (stream_id != NULL, NULL);
  g_return_val_if_fail (VEZA_IS_HLS_WRITER (writer), NULL);

  return pipeline_new (stream_id, writer, segment_duration_s);
}

/**
 * veza_media_pipeline_new_pull:
 * @stream_id: the stream's UUID
 * @writer: the broadcast's playlists
 * @segment_duration_s: target segment duration
 * @rtmp_url: the upstream stream to play (never logged)
 *
 * Returns: (transfer full): a new pipeline, not started
 */
VezaMediaPipeline *
veza_media_pipeline_new_pull (const char    *stream_id,
                              VezaHlsWriter *writer,
                              guint          segment_duration_s,
                              const char    *rtmp_url)
{
  VezaMediaPipeline *self;

  g_return_val_if_fail (stream_id != NULL, NULL);
  g_return_val_if_fail (VEZA_IS_HLS_WRITER (writer), NULL);
  g_return_val_if_fail (rtmp_url != NULL, NULL);

  self = pipeline_new (stream_id, writer, segment_duration_s);
  self->rtmp_url = g_strdup (rtmp_url);
  return self;
}

/* ---- fragments -------------------------------------------------------- */

/* Turns a closed fragment into a segment of the broadcast.  Takes
 * @fragment. */
static void
publish_fragment (VezaMediaPipeline *self, VezaHlsFragment *fragment)
{
  g_autofree char *path = NULL;
  g_autofree char *filename = NULL;
  g_autoptr (GDateTime) program_date_time = NULL;
  GstClockTime end_rt = fragment->end_rt;
  double duration;

  if (!GST_CLOCK_TIME_IS_VALID (fragment->start_rt) || !GST_CLOCK_TIME_IS_VALID (end_rt) ||
      end_rt <= fragment->start_rt)
    {
      GST_INFO ("stream %s: dropping an empty fragment", self->stream_id);
      g_unlink (fragment->location);
      veza_hls_fragment_free (fragment);
      return;
    }

  duration = (double) (end_rt - fragment->start_rt) / GST_SECOND;
  path = veza_hls_writer_next_segment_path (self->writer);
  if (g_rename (fragment->location, path) != 0)
    {
      int saved_errno = errno;
      g_warning ("stream %s: cannot store a segment: %s", self->stream_id, g_strerror (saved_errno));
      g_unlink (fragment->location);
      veza_hls_fragment_free (fragment);
      return;
    }

  program_date_time = veza_hls_sink_wall_clock_at (VEZA_HLS_SINK (self->hls_sink), fragment->start_rt);
  veza_hls_writer_add_segment (self->writer, path, duration, program_date_time);
  filename = g_path_get_basename (path);
  GST_DEBUG ("stream %s: segment %s, %.3f s", self->stream_id, filename, duration);
  veza_hls_fragment_free (fragment);

  g_signal_emit (self, signals[SIGNAL_SEGMENT_ADDED], 0, filename, duration);
}

/* Publishes the fragments the sink closed, oldest first. */
static void
publish_closed_fragments (VezaMediaPipeline *self)
{
  /* a handler may drop the last reference */
  G_GNUC_UNUSED g_autoptr (VezaMediaPipeline) keep = g_object_ref (self);

  VezaHlsFragment *fragment;

  if (self->hls_sink == NULL)
    return;
  while ((fragment = veza_hls_sink_pop_fragment (VEZA_HLS_SINK (self->hls_sink))) != NULL)
    publish_fragment (self, fragment);
}

/* ---- teardown --------------------------------------------------------- */

/* Tears everything down, keeps the segments recorded so far, then emits
 * "error" (if @error) and "stopped".  Runs only from a main-context
 * dispatch, never inside a public call. */
static void
do_finish (VezaMediaPipeline *self, GError *error)
{
  g_autoptr (GError) owned_error = error;
  /* a handler may drop the last reference */
  G_GNUC_UNUSED g_autoptr (VezaMediaPipeline) keep = g_object_ref (self);

  if (self->state == STATE_STOPPED)
    return;
  self->state = STATE_STOPPED;

  remove_source (&self->stop_timeout);
  remove_source (&self->finish_source);
  /* first the streaming threads, they wake the drain source */
  shutdown_pipelines (self);
  remove_source (&self->drain_source);

  /* the fragments closed so far are segments; the one being recorded,
   * interrupted, is not */
  publish_closed_fragments (self);
  discard_recordings (self);
  g_ptr_array_set_size (self->pending_tags, 0);

  if (owned_error != NULL)
    {
      /* A pull source's failure may not last: the owner decides how bad
       * it is (and may try again). */
      if (g_error_matches (owned_error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_SOURCE))
        GST_INFO ("stream %s: pull source failed: %s", self->stream_id, owned_error->message);
      else
        g_warning ("stream %s: media pipeline failed: %s", self->stream_id, owned_error->message);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, owned_error);
    }
  else
    GST_INFO ("stream %s: media pipeline stopped", self->stream_id);

  g_signal_emit (self, signals[SIGNAL_STOPPED], 0);
}

static gboolean
finish_cb (gpointer user_data)
{
  VezaMediaPipeline *self = user_data;

  g_clear_pointer (&self->finish_source, g_source_unref);
  do_finish (self, g_steal_pointer (&self->finish_error));
  return G_SOURCE_REMOVE;
}

/* Stops feeding the pipeline now and finishes from the main context.
 * Takes @error. */
static void
schedule_finish (VezaMediaPipeline *self, GError *error)
{
  if (self->state == STATE_FINISHING || self->state == STATE_STOPPED)
    {
      g_clear_error (&error);
      return;
    }
  self->state = STATE_FINISHING;
  self->finish_error = error;

  self->finish_source = g_idle_source_new ();
  g_source_set_priority (self->finish_source, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->finish_source, finish_cb, g_object_ref (self), g_object_unref);
  g_source_attach (self->finish_source, self->context);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  VezaMediaPipeline *self = user_data;

  g_clear_pointer (&self->stop_timeout, g_source_unref);
  g_warning ("stream %s: end of stream did not arrive within %d s, tearing down",
             self->stream_id, STOP_TIMEOUT_MS / 1000);
  do_finish (self, NULL);
  return G_SOURCE_REMOVE;
}

/* ---- bus -------------------------------------------------------------- */

static GError *
error_from_message (GstMessage *message, VezaMediaError code)
{
  g_autoptr (GError) gst_error = NULL;
  g_autofree char *debug = NULL;

  gst_message_parse_error (message, &gst_error, &debug);
  /* the debug string may quote a pull URL: only the message is kept */
  GST_DEBUG_OBJECT (GST_MESSAGE_SRC (message), "error: %s", gst_error->message);
  return g_error_new (VEZA_MEDIA_ERROR, code, "%s", gst_error->message);
}

static gboolean
bus_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  VezaMediaPipeline *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      do_finish (self, error_from_message (message, VEZA_MEDIA_ERROR_FAILED));
      return G_SOURCE_REMOVE;

    case GST_MESSAGE_EOS:
      do_finish (self, NULL);
      return G_SOURCE_REMOVE;

    case GST_MESSAGE_WARNING:
      {
        g_autoptr (GError) warning = NULL;
        gst_message_parse_warning (message, &warning, NULL);
        GST_WARNING_OBJECT (GST_MESSAGE_SRC (message), "stream %s: %s",
                            self->stream_id, warning->message);
      }
      break;

    case GST_MESSAGE_ELEMENT:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->hls_sink) &&
          gst_message_has_name (message, VEZA_HLS_SINK_FRAGMENT_CLOSED))
        publish_closed_fragments (self);
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

static GSource *
attach_bus_watch (VezaMediaPipeline *self, GstElement *pipeline, GstBusFunc func)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GSource *source = veza_bus_source_new (bus);

  g_source_set_callback (source, G_SOURCE_FUNC (func), self, NULL);
  g_source_attach (source, self->context);
  return source;
}

/* ---- streaming-thread callbacks --------------------------------------- */

static void
demux_pad_added_cb (GstElement *demux, GstPad *pad, gpointer user_data)
{
  VezaMediaPipeline *self = user_data;
  g_autofree char *name = gst_pad_get_name (pad);
  GstElement *parse = NULL;
  g_autoptr (GstPad) sinkpad = NULL;
  GstPadLinkReturn ret;

  if (g_str_has_prefix (name, "video"))
    parse = self->video_parse;
  else if (g_str_has_prefix (name, "audio"))
    parse = self->audio_parse;
  if (parse == NULL)
    {
      GST_DEBUG ("stream %s: ignoring demuxer pad %s", self->stream_id, name);
      return;
    }

  sinkpad = gst_element_get_static_pad (parse, "sink");
  ret = gst_pad_link (pad, sinkpad);
  if (GST_PAD_LINK_FAILED (ret))
    GST_ELEMENT_ERROR (demux, STREAM, FORMAT, ("Cannot link the %s track", name),
                       ("link result %s", gst_pad_link_get_name (ret)));
}

/* ---- building the remux pipeline -------------------------------------- */

static GstElement *
make_element (const char *factory, const char *name, GError **error)
{
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL)
    g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_MISSING_ELEMENT,
                 "GStreamer element “%s” is not installed", factory);
  return element;
}

static gboolean
check_factories (const char *const *names, GError **error)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (GstElementFactory) factory = gst_element_factory_find (names[i]);
      if (factory == NULL)
        {
          g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_MISSING_ELEMENT,
                       "GStreamer element “%s” is not installed", names[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* parse ! tee ! the sink's pad of that kind; returns the tee.  The
 * sink's pad accepts one format only (H.264 byte-stream in access units,
 * AAC with ADTS headers), which the parser then converts to: no capsfilter
 * is needed, and each buffer passes one element fewer. */
static GstElement *
build_branch (VezaMediaPipeline *self,
              const char        *kind,
              const char        *parser_factory,
              GstElement       **parse_out,
              GError           **error)
{
  g_autofree char *parse_name = g_strdup_printf ("%s-parse", kind);
  g_autofree char *tee_name = g_strdup_printf ("%s-tee", kind);
  GstElement *parse, *tee;
  g_autoptr (GstPad) tee_src = NULL;
  g_autoptr (GstPad) sink_pad = NULL;

  parse = make_element (parser_factory, parse_name, error);
  tee = parse ? make_element ("tee", tee_name, error) : NULL;
  if (tee == NULL)
    {
      g_clear_object (&parse);
      return NULL;
    }

  if (g_str_equal (parser_factory, "h264parse"))
    g_object_set (parse, "config-interval", -1, NULL);  /* SPS/PPS in every segment */
  g_object_set (tee, "allow-not-linked", TRUE, NULL);

  gst_bin_add_many (GST_BIN (self->pipeline), parse, tee, NULL);
  if (!gst_element_link (parse, tee))
    goto link_failed;

  tee_src = gst_element_request_pad_simple (tee, "src_%u");
  sink_pad = gst_element_get_static_pad (self->hls_sink, kind);
  if (tee_src == NULL || sink_pad == NULL || GST_PAD_LINK_FAILED (gst_pad_link (tee_src, sink_pad)))
    goto link_failed;

  *parse_out = g_object_ref (parse);
  return g_object_ref (tee);

link_failed:
  g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_FAILED,
               "Cannot link the %s branch", kind);
  return NULL;
}

static gboolean
build_pipeline (VezaMediaPipeline *self, GError **error)
{
  g_autofree char *name = g_strdup_printf ("veza-%s", self->stream_id);
  GstElement *demux;

  demux = make_element ("flvdemux", "flv-demux", error);
  if (demux == NULL)
    return FALSE;
  self->flv_src = g_object_ref_sink (veza_flv_src_new ());
  gst_object_set_name (GST_OBJECT (self->flv_src), "flv-src");
  self->hls_sink = g_object_ref_sink (veza_hls_sink_new (self->dir, self->serial,
                                                         self->segment_duration_s,
                                                         self->has_video, self->has_audio));
  gst_object_set_name (GST_OBJECT (self->hls_sink), "hls-sink");

  gst_object_set_name (GST_OBJECT (self->pipeline), name);
  gst_bin_add_many (GST_BIN (self->pipeline), self->flv_src, demux, self->hls_sink, NULL);
  if (!gst_element_link (self->flv_src, demux))
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_FAILED, "Cannot link the pipeline");
      return FALSE;
    }

  if (self->has_video)
    {
      self->video_tee = build_branch (self, "video", "h264parse", &self->video_parse, error);
      if (self->video_tee == NULL)
        return FALSE;
    }
  if (self->has_audio)
    {
      self->audio_tee = build_branch (self, "audio", "aacparse", &self->audio_parse, error);
      if (self->audio_tee == NULL)
        return FALSE;
    }

  g_signal_connect (demux, "pad-added", G_CALLBACK (demux_pad_added_cb), self);
  return TRUE;
}

/* ---- feeding ---------------------------------------------------------- */

/* Pushes @buffer (taken) through the whole pipeline, in this thread. */
static gboolean
push_buffer (VezaMediaPipeline *self, GstBuffer *buffer, GError **error)
{
  GstFlowReturn ret = veza_flv_src_push (VEZA_FLV_SRC (self->flv_src), buffer);

  if (ret == GST_FLOW_OK || ret == GST_FLOW_FLUSHING || ret == GST_FLOW_EOS)
    return TRUE;
  /* the element that failed posted the reason on the bus, which is
   * dispatched before the teardown this error schedules */
  GST_DEBUG ("stream %s: push returned %s", self->stream_id, gst_flow_get_name (ret));
  g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_FAILED,
               "The media pipeline failed (%s)", gst_flow_get_name (ret));
  return FALSE;
}

/* The AMF0 string "@setDataFrame" that RTMP publishers put before
 * onMetaData; an FLV file starts its script tag with onMetaData itself. */
static const guint8 set_data_frame[] = {
  0x02, 0x00, 0x0d, '@', 's', 'e', 't', 'D', 'a', 't', 'a', 'F', 'r', 'a', 'm', 'e'
};

static gboolean
push_tag_now (VezaMediaPipeline *self, VezaFlvTag *tag, GError **error)
{
  GstBuffer *buffer;
  GstMapInfo map;
  gsize len;
  const guint8 *data = g_bytes_get_data (tag->payload, &len);
  gint32 delta;

  if (len == 0 || len >= (1 << 24))
    return TRUE;
  if (tag->type == VEZA_FLV_TAG_AUDIO && !self->has_audio)
    return TRUE;
  if (tag->type == VEZA_FLV_TAG_VIDEO && !self->has_video)
    return TRUE;
  if (tag->type == VEZA_FLV_TAG_VIDEO && len >= 2 && data[1] == 1)
    {
      /* a stream joined mid-way (pull) starts with delta frames: drop them,
       * every segment must start with a keyframe */
      if ((data[0] >> 4) == 1)
        self->seen_keyframe = TRUE;
      else if (!self->seen_keyframe)
        return TRUE;
    }
  if (tag->type == VEZA_FLV_TAG_SCRIPT && len > sizeof set_data_frame &&
      memcmp (data, set_data_frame, sizeof set_data_frame) == 0)
    {
      data += sizeof set_data_frame;
      len -= sizeof set_data_frame;
    }

  /* timestamps start at 0; a slightly earlier tag of the other track
   * (or a 32-bit wrap) is handled by the signed difference */
  delta = (gint32) (tag->timestamp - self->ts_base);

  buffer = gst_buffer_new_allocate (NULL, len + VEZA_FLV_TAG_OVERHEAD, NULL);
  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_WRITE))
    {
      g_clear_pointer (&buffer, gst_buffer_unref);
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_FAILED, "Out of memory for a tag");
      return FALSE;
    }
  veza_flv_write_tag (map.data, tag->type, delta > 0 ? (guint32) delta : 0, data, len);
  gst_buffer_unmap (buffer, &map);
  return push_buffer (self, buffer, error);
}

static gboolean
check_codec (guint tag_type, GBytes *payload, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);

  if (len == 0)
    return TRUE;
  if (tag_type == VEZA_FLV_TAG_VIDEO && (data[0] & 0x0f) != VEZA_FLV_VIDEO_CODEC_AVC)
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_UNSUPPORTED_CODEC,
                   "Unsupported video codec %u (only H.264 is)", data[0] & 0x0f);
      return FALSE;
    }
  if (tag_type == VEZA_FLV_TAG_AUDIO && (data[0] >> 4) != VEZA_FLV_AUDIO_CODEC_AAC)
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_UNSUPPORTED_CODEC,
                   "Unsupported audio codec %u (only AAC is)", data[0] >> 4);
      return FALSE;
    }
  return TRUE;
}

/* Builds the remux pipeline for the tracks seen so far, starts it and
 * pushes the tags kept while probing. */
static gboolean
go_running (VezaMediaPipeline *self, GError **error)
{
  g_autoptr (GBytes) header = NULL;
  GstStateChangeReturn ret;

  self->has_audio = self->n_audio > 0;
  self->has_video = self->n_video > 0;
  self->ts_base = self->have_ts ? self->min_ts : 0;

  GST_INFO ("stream %s: building the pipeline (audio: %s, video: %s)", self->stream_id,
            self->has_audio ? "yes" : "no", self->has_video ? "yes" : "no");

  if (!build_pipeline (self, error))
    return FALSE;

  self->state = STATE_RUNNING;
  g_signal_emit (self, signals[SIGNAL_PIPELINE_CREATED], 0, self->pipeline,
                 self->video_tee, self->audio_tee);
  if (self->state != STATE_RUNNING)
    return TRUE;  /* a handler stopped us */

  ret = gst_element_set_state (GST_ELEMENT (self->pipeline), GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE)
    {
      /* the bus holds the reason; report the generic one */
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_FAILED,
                   "The media pipeline failed to start");
      return FALSE;
    }

  header = veza_flv_header_new (self->has_audio, self->has_video);
  if (!push_buffer (self, gst_buffer_new_wrapped_bytes (header), error))
    return FALSE;

  for (guint i = 0; i < self->pending_tags->len; i++)
    if (!push_tag_now (self, g_ptr_array_index (self->pending_tags, i), error))
      return FALSE;
  g_ptr_array_set_size (self->pending_tags, 0);
  self->pending_bytes = 0;
  return TRUE;
}

static gboolean
probe_done (VezaMediaPipeline *self)
{
  if (self->n_audio > 0 && self->n_video > 0)
    return TRUE;
  if (self->have_ts && self->max_ts - self->min_ts >= PROBE_MAX_SPAN_MS)
    return TRUE;
  return self->pending_tags->len >= PROBE_MAX_TAGS || self->pending_bytes >= PROBE_MAX_BYTES;
}

/* Common path of pushed and pulled tags.  Takes @tag. */
static gboolean
feed_tag (VezaMediaPipeline *self, VezaFlvTag *tag, GError **error)
{
  g_autoptr (VezaFlvTag) owned = tag;

  if (tag->type != VEZA_FLV_TAG_AUDIO && tag->type != VEZA_FLV_TAG_VIDEO &&
      tag->type != VEZA_FLV_TAG_SCRIPT)
    return TRUE;
  if (!check_codec (tag->type, tag->payload, error))
    return FALSE;

  if (self->state == STATE_RUNNING)
    return push_tag_now (self, tag, error);
  if (self->state != STATE_PROBING)
    return TRUE;

  if (tag->type != VEZA_FLV_TAG_SCRIPT && g_bytes_get_size (tag->payload) > 0)
    {
      if (tag->type == VEZA_FLV_TAG_AUDIO)
        self->n_audio++;
      else
        self->n_video++;
      if (!self->have_ts)
        self->min_ts = self->max_ts = tag->timestamp;
      self->have_ts = TRUE;
      self->min_ts = MIN (self->min_ts, tag->timestamp);
      self->max_ts = MAX (self->max_ts, tag->timestamp);
    }
  self->pending_bytes += g_bytes_get_size (tag->payload);
  g_ptr_array_add (self->pending_tags, g_steal_pointer (&owned));

  if (probe_done (self))
    return go_running (self, error);
  return TRUE;
}

/* Sends end-of-stream through the remux pipeline (building it first from
 * what was seen), or finishes at once when nothing was received. */
static void
begin_stop (VezaMediaPipeline *self)
{
  g_autoptr (GError) error = NULL;

  if (self->state == STATE_PROBING)
    {
      if (self->n_audio == 0 && self->n_video == 0)
        {
          schedule_finish (self, NULL);
          return;
        }
      if (!go_running (self, &error))
        {
          schedule_finish (self, g_steal_pointer (&error));
          return;
        }
    }
  if (self->state != STATE_RUNNING)
    return;

  self->state = STATE_STOPPING;
  veza_flv_src_end_of_stream (VEZA_FLV_SRC (self->flv_src));

  self->stop_timeout = g_timeout_source_new (STOP_TIMEOUT_MS);
  g_source_set_callback (self->stop_timeout, stop_timeout_cb, self, NULL);
  g_source_attach (self->stop_timeout, self->context);
}

/* ---- pull source ------------------------------------------------------ */

static GstFlowReturn
appsink_new_sample_cb (GstAppSink *sink, gpointer user_data)
{
  VezaMediaPipeline *self = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;

  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;

  g_mutex_lock (&self->lock);
  if (self->incoming->len + map.size > VEZA_MEDIA_PIPELINE_MAX_QUEUED_BYTES)
    self->incoming_overflow = TRUE;
  else
    g_byte_array_append (self->incoming, map.data, map.size);
  g_mutex_unlock (&self->lock);
  gst_buffer_unmap (buffer, &map);

  g_source_set_ready_time (self->drain_source, 0);
  return GST_FLOW_OK;
}

/* Parses the bytes received from rtmp2src and feeds their tags. */
static gboolean
drain_incoming (VezaMediaPipeline *self, GError **error)
{
  g_autoptr (GByteArray) bytes = NULL;
  g_autoptr (GPtrArray) tags = NULL;
  gboolean overflow;

  g_mutex_lock (&self->lock);
  bytes = g_steal_pointer (&self->incoming);
  self->incoming = g_byte_array_new ();
  overflow = self->incoming_overflow;
  g_mutex_unlock (&self->lock);

  if (overflow)
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_OVERFLOW,
                   "The media pipeline cannot keep up with the pulled stream");
      return FALSE;
    }
  if (bytes->len == 0)
    return TRUE;

  self->bytes_in += bytes->len;
  tags = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_flv_tag_free);
  if (!veza_flv_parser_feed (self->parser, bytes->data, bytes->len, tags, error))
    return FALSE;

  for (guint i = 0; i < tags->len; i++)
    {
      if (self->state != STATE_PROBING && self->state != STATE_RUNNING)
        break;
      if (!feed_tag (self, g_ptr_array_steal_index (tags, i--), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
drain_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs drain_source_funcs = {
  .dispatch = drain_dispatch,
};

static gboolean
drain_cb (gpointer user_data)
{
  VezaMediaPipeline *self = user_data;
  g_autoptr (GError) error = NULL;

  if (self->state == STATE_PROBING || self->state == STATE_RUNNING)
    if (!drain_incoming (self, &error))
      schedule_finish (self, g_steal_pointer (&error));
  return G_SOURCE_CONTINUE;
}

static gboolean
src_bus_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  VezaMediaPipeline *self = user_data;
  g_autoptr (GError) error = NULL;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      do_finish (self, error_from_message (message, VEZA_MEDIA_ERROR_SOURCE));
      return G_SOURCE_REMOVE;

    case GST_MESSAGE_EOS:
      GST_INFO ("stream %s: the pulled stream ended", self->stream_id);
      if (self->state == STATE_PROBING || self->state == STATE_RUNNING)
        {
          if (!drain_incoming (self, &error))
            {
              schedule_finish (self, g_steal_pointer (&error));
              return G_SOURCE_CONTINUE;
            }
          begin_stop (self);
        }
      return G_SOURCE_CONTINUE;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
start_pull_source (VezaMediaPipeline *self, GError **error)
{
  g_autofree char *name = g_strdup_printf ("veza-pull-%s", self->stream_id);
  GstElement *src, *sink;
  GstAppSinkCallbacks callbacks = { .new_sample = appsink_new_sample_cb };
  g_autoptr (GError) uri_error = NULL;

  src = make_element ("rtmp2src", "rtmp-src", error);
  if (src == NULL)
    return FALSE;
  if (!gst_uri_handler_set_uri (GST_URI_HANDLER (src), self->rtmp_url, &uri_error))
    {
      gst_object_unref (src);
      /* the URL itself is not repeated: it may hold a stream key */
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_SOURCE, "Invalid RTMP URL");
      return FALSE;
    }
  g_object_set (src, "idle-timeout", (guint) PULL_IDLE_TIMEOUT_S, NULL);

  sink = make_element ("appsink", "flv-sink", error);
  if (sink == NULL)
    {
      gst_object_unref (src);
      return FALSE;
    }
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, self, NULL);

  self->parser = veza_flv_parser_new ();
  self->drain_source = g_source_new (&drain_source_funcs, sizeof (GSource));
  g_source_set_callback (self->drain_source, drain_cb, self, NULL);
  g_source_attach (self->drain_source, self->context);

  self->src_pipeline = gst_object_ref_sink (gst_pipeline_new (name));
  gst_bin_add_many (GST_BIN (self->src_pipeline), src, sink, NULL);
  if (!gst_element_link (src, sink))
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_FAILED, "Cannot link the RTMP source");
      return FALSE;
    }
  self->src_bus_source = attach_bus_watch (self, self->src_pipeline, src_bus_cb);

  if (gst_element_set_state (self->src_pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_SOURCE,
                   "Cannot start the RTMP source");
      return FALSE;
    }
  return TRUE;
}

/* ---- public API ------------------------------------------------------- */

/**
 * veza_media_pipeline_start:
 * @self: a #VezaMediaPipeline
 * @error: return location for a #GError
 *
 * Push mode: gets ready for veza_media_pipeline_push_tag().  Pull mode:
 * connects to the upstream server.  After a successful start, "stopped" is
 * emitted exactly once.
 *
 * Returns: %FALSE with @error set when a needed element is missing or the
 *   source cannot start (no signal is emitted then)
 */
gboolean
veza_media_pipeline_start (VezaMediaPipeline *self, GError **error)
{
  static const char *const remux_elements[] = {
    "flvdemux", "h264parse", "aacparse", "tee", NULL
  };
  static const char *const pull_elements[] = { "rtmp2src", "appsink", NULL };

  g_return_val_if_fail (VEZA_IS_MEDIA_PIPELINE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->state == STATE_NEW, FALSE);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  if (!check_factories (remux_elements, error) ||
      (self->rtmp_url != NULL && !check_factories (pull_elements, error)))
    return FALSE;

  self->pipeline = GST_PIPELINE (gst_object_ref_sink (gst_pipeline_new (NULL)));
  self->bus_source = attach_bus_watch (self, GST_ELEMENT (self->pipeline), bus_cb);

  if (self->rtmp_url != NULL && !start_pull_source (self, error))
    {
      shutdown_pipelines (self);
      remove_source (&self->drain_source);
      self->state = STATE_STOPPED;
      return FALSE;
    }

  self->state = STATE_PROBING;
  GST_INFO ("stream %s: media pipeline started (%s mode)", self->stream_id,
            self->rtmp_url ? "pull" : "push");
  return TRUE;
}

/**
 * veza_media_pipeline_push_tag:
 * @self: a #VezaMediaPipeline (push mode, started)
 * @tag_type: 8 audio, 9 video, 18 script data
 * @timestamp_ms: the RTMP message timestamp
 * @payload: the FLV tag body exactly as received
 *
 * Only H.264 video and AAC audio are accepted; anything else, or a stream
 * the pipeline cannot keep up with, fails the stream ("error", "stopped").
 */
void
veza_media_pipeline_push_tag (VezaMediaPipeline *self,
                              guint              tag_type,
                              guint32            timestamp_ms,
                              GBytes            *payload)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (VEZA_IS_MEDIA_PIPELINE (self));
  g_return_if_fail (payload != NULL);

  if (self->state != STATE_PROBING && self->state != STATE_RUNNING)
    return;
  if (tag_type > G_MAXUINT8)
    return;

  self->bytes_in += g_bytes_get_size (payload);
  if (!feed_tag (self, veza_flv_tag_new (tag_type, timestamp_ms, payload), &error))
    schedule_finish (self, g_steal_pointer (&error));
}

/**
 * veza_media_pipeline_stop:
 * @self: a #VezaMediaPipeline
 *
 * Ends the stream: the last fragment is closed and added, then "stopped"
 * is emitted (at the latest 5 s later).  Idempotent.
 */
void
veza_media_pipeline_stop (VezaMediaPipeline *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (VEZA_IS_MEDIA_PIPELINE (self));

  if (self->state == STATE_NEW)
    {
      self->state = STATE_STOPPED;
      return;
    }
  if (self->state != STATE_PROBING && self->state != STATE_RUNNING)
    return;

  if (self->src_pipeline != NULL)
    {
      /* take what was already received, then drop the connection */
      veza_bus_source_destroy (&self->src_bus_source);
      gst_element_set_state (self->src_pipeline, GST_STATE_NULL);
      if (!drain_incoming (self, &error))
        {
          schedule_finish (self, g_steal_pointer (&error));
          return;
        }
    }

  begin_stop (self);
}

/**
 * veza_media_pipeline_get_pipeline:
 *
 * Returns: (transfer none) (nullable): the remux pipeline, once started
 */
GstPipeline *
veza_media_pipeline_get_pipeline (VezaMediaPipeline *self)
{
  g_return_val_if_fail (VEZA_IS_MEDIA_PIPELINE (self), NULL);

  return self->pipeline;
}

/**
 * veza_media_pipeline_get_bytes_in:
 *
 * Returns: the number of bytes received (tag bodies, or the pulled FLV
 *   stream)
 */
guint64
veza_media_pipeline_get_bytes_in (VezaMediaPipeline *self)
{
  g_return_val_if_fail (VEZA_IS_MEDIA_PIPELINE (self), 0);

  return self->bytes_in;
}

const char *
veza_media_pipeline_get_stream_id (VezaMediaPipeline *self)
{
  g_return_val_if_fail (VEZA_IS_MEDIA_PIPELINE (self), NULL);

  return self->stream_id;
}
