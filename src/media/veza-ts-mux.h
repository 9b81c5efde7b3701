/* veza-ts-mux.h: MPEG transport stream packets for HLS (GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VEZA_TS_PACKET_SIZE 188
#define VEZA_TS_CLOCK_HZ 90000
/* timestamps are 33-bit counts of the 90 kHz clock */
#define VEZA_TS_TIME_MASK ((G_GUINT64_CONSTANT (1) << 33) - 1)

#define VEZA_TS_PID_PAT   0x0000
#define VEZA_TS_PID_PMT   0x1000
#define VEZA_TS_PID_VIDEO 0x0100
#define VEZA_TS_PID_AUDIO 0x0101

#define VEZA_TS_STREAM_TYPE_AAC_ADTS 0x0f
#define VEZA_TS_STREAM_TYPE_H264     0x1b

/* how far the program clock runs behind the decoding times */
#define VEZA_TS_PCR_DELAY (VEZA_TS_CLOCK_HZ / 2)

typedef enum
{
  VEZA_TS_TRACK_VIDEO,
  VEZA_TS_TRACK_AUDIO,
} VezaTsTrack;

typedef struct _VezaTsMux VezaTsMux;

VezaTsMux *veza_ts_mux_new          (gboolean     has_video,
                                     gboolean     has_audio);
void       veza_ts_mux_free         (VezaTsMux   *self);
void       veza_ts_mux_write_tables (VezaTsMux   *self,
                                     GByteArray  *out);
void       veza_ts_mux_write_frame  (VezaTsMux   *self,
                                     VezaTsTrack  track,
                                     const guint8 *data,
                                     gsize        size,
                                     guint64      pts,
                                     guint64      dts,
                                     gboolean     keyframe,
                                     GByteArray  *out);

guint32    veza_ts_crc32            (const guint8 *data,
                                     gsize         size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaTsMux, veza_ts_mux_free)

G_END_DECLS
