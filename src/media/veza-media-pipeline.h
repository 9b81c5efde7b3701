/* veza-media-pipeline.h: the GStreamer pipeline of one live stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gst/gst.h>

#include "veza-hls-writer.h"
#include "veza-media-error.h"

G_BEGIN_DECLS

#define VEZA_TYPE_MEDIA_PIPELINE (veza_media_pipeline_get_type ())
G_DECLARE_FINAL_TYPE (VezaMediaPipeline, veza_media_pipeline, VEZA, MEDIA_PIPELINE, GObject)

/* Most FLV bytes waiting for the pipeline before the stream is failed. */
#define VEZA_MEDIA_PIPELINE_MAX_QUEUED_BYTES (16 * 1024 * 1024)

VezaMediaPipeline *veza_media_pipeline_new_push     (const char        *stream_id,
                                                     VezaHlsWriter     *writer,
                                                     guint              segment_duration_s);
VezaMediaPipeline *veza_media_pipeline_new_pull     (const char        *stream_id,
                                                     VezaHlsWriter     *writer,
                                                     guint              segment_duration_s,
                                                     const char        *rtmp_url);
gboolean           veza_media_pipeline_start        (VezaMediaPipeline *self,
                                                     GError           **error);
void               veza_media_pipeline_push_tag     (VezaMediaPipeline *self,
                                                     guint              tag_type,
                                                     guint32            timestamp_ms,
                                                     GBytes            *payload);
void               veza_media_pipeline_stop         (VezaMediaPipeline *self);
GstPipeline       *veza_media_pipeline_get_pipeline (VezaMediaPipeline *self);
guint64            veza_media_pipeline_get_bytes_in (VezaMediaPipeline *self);
const char        *veza_media_pipeline_get_stream_id (VezaMediaPipeline *self);

G_END_DECLS
