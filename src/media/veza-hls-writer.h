/* veza-hls-writer.h: the playlists and segment names of one broadcast
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "veza-media-error.h"

G_BEGIN_DECLS

#define VEZA_TYPE_HLS_WRITER (veza_hls_writer_get_type ())
G_DECLARE_FINAL_TYPE (VezaHlsWriter, veza_hls_writer, VEZA, HLS_WRITER, GObject)

#define VEZA_HLS_LIVE_PLAYLIST "live.m3u8"
#define VEZA_HLS_VOD_PLAYLIST  "vod.m3u8"

VezaHlsWriter *veza_hls_writer_new                (const char    *dir,
                                                   guint          target_duration_s,
                                                   guint          live_window,
                                                   GError       **error);
char          *veza_hls_writer_next_segment_path  (VezaHlsWriter *self);
void           veza_hls_writer_add_segment        (VezaHlsWriter *self,
                                                   const char    *path_or_filename,
                                                   double         duration_s,
                                                   GDateTime     *program_date_time);
void           veza_hls_writer_mark_discontinuity (VezaHlsWriter *self);
void           veza_hls_writer_finish             (VezaHlsWriter *self);
guint          veza_hls_writer_get_n_segments     (VezaHlsWriter *self);
gboolean       veza_hls_writer_is_finished        (VezaHlsWriter *self);
const char    *veza_hls_writer_get_dir            (VezaHlsWriter *self);

gboolean       veza_hls_finish_dir                (const char    *dir,
                                                   GError       **error);

G_END_DECLS
