/* veza-ts-segmenter.h: cuts a muxed MPEG-TS stream into HLS segment files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Name of the element message the sink posts when a fragment was closed. */
#define VEZA_TS_SEGMENTER_FRAGMENT_CLOSED "veza-fragment-closed"

typedef struct
{
  char *location;               /* hidden temporary file */
  GstClockTime start_rt;
  GstClockTime end_rt;
} VezaTsFragment;

void veza_ts_fragment_free (VezaTsFragment *fragment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaTsFragment, veza_ts_fragment_free)

typedef struct _VezaTsSegmenter VezaTsSegmenter;

VezaTsSegmenter *veza_ts_segmenter_new              (const char      *dir,
                                                     guint            serial,
                                                     guint            target_duration_s);
void             veza_ts_segmenter_free             (VezaTsSegmenter *self);
void             veza_ts_segmenter_set_sink         (VezaTsSegmenter *self,
                                                     GstElement      *sink,
                                                     GstClockTime     mux_latency);
void             veza_ts_segmenter_set_timing_track (VezaTsSegmenter *self,
                                                     GstPad          *pad,
                                                     guint            pid,
                                                     gboolean         video);
VezaTsFragment  *veza_ts_segmenter_pop_fragment     (VezaTsSegmenter *self);
GDateTime       *veza_ts_segmenter_wall_clock_at    (VezaTsSegmenter *self,
                                                     GstClockTime     running_time);
gboolean         veza_ts_segmenter_discard          (VezaTsSegmenter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaTsSegmenter, veza_ts_segmenter_free)

G_END_DECLS
