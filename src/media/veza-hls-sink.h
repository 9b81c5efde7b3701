/* veza-hls-sink.h: muxes H.264 and AAC into MPEG-TS segment files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Name of the element message the sink posts when a fragment was closed. */
#define VEZA_HLS_SINK_FRAGMENT_CLOSED "veza-fragment-closed"

typedef struct
{
  char *location;               /* hidden temporary file */
  GstClockTime start_rt;
  GstClockTime end_rt;
} VezaHlsFragment;

void veza_hls_fragment_free (VezaHlsFragment *fragment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaHlsFragment, veza_hls_fragment_free)

#define VEZA_TYPE_HLS_SINK (veza_hls_sink_get_type ())
G_DECLARE_FINAL_TYPE (VezaHlsSink, veza_hls_sink, VEZA, HLS_SINK, GstElement)

GstElement      *veza_hls_sink_new           (const char   *dir,
                                              guint         serial,
                                              guint         target_duration_s,
                                              gboolean      has_video,
                                              gboolean      has_audio);
VezaHlsFragment *veza_hls_sink_pop_fragment  (VezaHlsSink  *self);
GDateTime       *veza_hls_sink_wall_clock_at (VezaHlsSink  *self,
                                              GstClockTime  running_time);
gboolean         veza_hls_sink_discard       (VezaHlsSink  *self);

G_END_DECLS
