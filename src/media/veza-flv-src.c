/* veza-flv-src.c: a live source of FLV bytes pushed by the caller
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where appsrc queues its buffers for a streaming thread of its own, this
 * source pushes each one downstream in the caller's thread, at once: the
 * FLV tags a publisher sends are demuxed, parsed, muxed and written before
 * veza_flv_src_push() returns.  For Veza that thread is the main loop's,
 * which already owns the RTMP connection, so a tag never changes threads
 * on its way from the socket to the segment file, and no queue can grow.
 * Everything downstream must therefore be quick and never wait on a
 * clock or another thread; branches that plugins add to the tees start
 * with a queue of their own.
 *
 * The source is live (no preroll).  The sticky events (stream-start,
 * caps video/x-flv, a BYTES segment) go out before the first buffer, or
 * before end-of-stream when nothing was pushed.
 */

#include "veza-flv-src.h"

struct _VezaFlvSrc
{
  GstElement parent_instance;

  GstPad *srcpad;
  gboolean started;             /* the sticky events went out */
  guint64 offset;
};

static GstStaticPadTemplate src_template =
  GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-flv"));

G_DEFINE_FINAL_TYPE (VezaFlvSrc, veza_flv_src, GST_TYPE_ELEMENT)

static gboolean
veza_flv_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  switch (GST_QUERY_TYPE (query))
    {
    case GST_QUERY_LATENCY:
      /* live, and nothing is held back */
      gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;

    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1, 0);
      gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
      return TRUE;

    default:
      return gst_pad_query_default (pad, parent, query);
    }
}

static void
push_sticky_events (VezaFlvSrc *self)
{
  g_autofree char *stream_id = NULL;
  g_autoptr (GstCaps) caps = NULL;
  GstSegment segment;

  if (self->started)
    return;
  self->started = TRUE;

  stream_id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self), "flv");
  gst_pad_push_event (self->srcpad, gst_event_new_stream_start (stream_id));
  caps = gst_pad_get_pad_template_caps (self->srcpad);
  gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  gst_segment_init (&segment, GST_FORMAT_BYTES);
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
}

/**
 * veza_flv_src_push:
 * @buffer: (transfer full): FLV bytes (the stream header, then whole tags)
 *
 * Pushes @buffer downstream in the calling thread.  The element must be
 * in PLAYING (or PAUSED) already.
 *
 * Returns: what downstream returned; an error was also posted on the bus
 *   by the element that failed
 */
GstFlowReturn
veza_flv_src_push (VezaFlvSrc *self, GstBuffer *buffer)
{
  g_return_val_if_fail (VEZA_IS_FLV_SRC (self), GST_FLOW_ERROR);
  g_return_val_if_fail (GST_IS_BUFFER (buffer), GST_FLOW_ERROR);

  push_sticky_events (self);
  GST_BUFFER_OFFSET (buffer) = self->offset;
  self->offset += gst_buffer_get_size (buffer);
  GST_BUFFER_OFFSET_END (buffer) = self->offset;
  return gst_pad_push (self->srcpad, buffer);
}

/**
 * veza_flv_src_end_of_stream:
 *
 * Sends end-of-stream downstream, in the calling thread.
 *
 * Returns: whether downstream took it
 */
gboolean
veza_flv_src_end_of_stream (VezaFlvSrc *self)
{
  g_return_val_if_fail (VEZA_IS_FLV_SRC (self), FALSE);

  push_sticky_events (self);
  return gst_pad_push_event (self->srcpad, gst_event_new_eos ());
}

static GstStateChangeReturn
veza_flv_src_change_state (GstElement *element, GstStateChange transition)
{
  VezaFlvSrc *self = VEZA_FLV_SRC (element);
  GstStateChangeReturn ret;

  ret = GST_ELEMENT_CLASS (veza_flv_src_parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition)
    {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      self->started = FALSE;
      self->offset = 0;
      break;
    default:
      break;
    }
  return ret;
}

/**
 * veza_flv_src_new:
 *
 * Returns: (transfer floating): a new source
 */
GstElement *
veza_flv_src_new (void)
{
  return g_object_new (VEZA_TYPE_FLV_SRC, NULL);
}

static void
veza_flv_src_class_init (VezaFlvSrcClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  element_class->change_state = veza_flv_src_change_state;
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Veza FLV source", "Source",
                                         "Pushes the FLV bytes it is given, in the caller's thread",
                                         "Veza Live");
}

static void
veza_flv_src_init (VezaFlvSrc *self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad, veza_flv_src_query);
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}
