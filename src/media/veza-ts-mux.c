/* veza-ts-mux.c: MPEG transport stream packets for HLS (GLib only)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One program with at most two elementary streams: H.264 (byte-stream,
 * one access unit per frame, PID 0x100) and AAC with ADTS headers (PID
 * 0x101).  Each frame becomes one PES packet, cut into 188-byte transport
 * packets; the last one is padded with adaptation-field stuffing.  The
 * program clock (PCR) rides on the first packet of every frame of the
 * video track (the audio track when there is no video), running
 * VEZA_TS_PCR_DELAY behind the frame's decoding time, and video keyframes
 * carry the random-access indicator.  The PAT and PMT are written on
 * request: the segmenter puts them at the head of every segment so that
 * each segment plays on its own (RFC 8216, section 3.2).
 *
 * Nothing here allocates per packet: the packets are appended to the
 * caller's byte array, written out once per frame.
 */

#include "veza-ts-mux.h"

#include <string.h>

#define TS_PAYLOAD_SIZE (VEZA_TS_PACKET_SIZE - 4)
#define PES_STREAM_ID_VIDEO 0xe0
#define PES_STREAM_ID_AUDIO 0xc0
/* '10' marker bits, data_alignment_indicator: the payload starts a frame */
#define PES_FLAGS_ALIGNED 0x84
#define PROGRAM_NUMBER 1
#define TRANSPORT_STREAM_ID 1

typedef struct
{
  guint16 pid;
  guint8 stream_type;
  guint8 cc;                    /* continuity counter, 4 bits */
  gboolean present;
} Stream;

struct _VezaTsMux
{
  Stream video;
  Stream audio;
  Stream *pcr_stream;
  guint8 pat_cc;
  guint8 pmt_cc;
};

/* ---- CRC-32/MPEG-2 (polynomial 0x04c11db7, MSB first, no final xor) --- */

static guint32 crc_table[256];

static gpointer
init_crc_table (gpointer data)
{
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 crc = i << 24;
      for (guint bit = 0; bit < 8; bit++)
        crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
      crc_table[i] = crc;
    }
  return NULL;
}

/**
 * veza_ts_crc32:
 *
 * Returns: the CRC that ends a PSI section (CRC-32/MPEG-2 of @data)
 */
guint32
veza_ts_crc32 (const guint8 *data, gsize size)
{
  static GOnce once = G_ONCE_INIT;
  guint32 crc = 0xffffffffu;

  g_once (&once, init_crc_table, NULL);
  for (gsize i = 0; i < size; i++)
    crc = (crc << 8) ^ crc_table[((crc >> 24) ^ data[i]) & 0xff];
  return crc;
}

/* ---- construction ----------------------------------------------------- */

/**
 * veza_ts_mux_new:
 * @has_video: the program has an H.264 stream
 * @has_audio: the program has an AAC stream
 *
 * Returns: (transfer full): a muxer; at least one track must be present
 */
VezaTsMux *
veza_ts_mux_new (gboolean has_video, gboolean has_audio)
{
  VezaTsMux *self;

  g_return_val_if_fail (has_video || has_audio, NULL);

  self = g_new0 (VezaTsMux, 1);
  self->video = (Stream) { VEZA_TS_PID_VIDEO, VEZA_TS_STREAM_TYPE_H264, 0, has_video };
  self->audio = (Stream) { VEZA_TS_PID_AUDIO, VEZA_TS_STREAM_TYPE_AAC_ADTS, 0, has_audio };
  self->pcr_stream = has_video ? &self->video : &self->audio;
  return self;
}

void
veza_ts_mux_free (VezaTsMux *self)
{
  g_free (self);
}

/* ---- tables ----------------------------------------------------------- */

/* Appends one packet holding @section (without its CRC, which is added). */
static void
write_section_packet (GByteArray *out, guint16 pid, guint8 *cc, guint8 *section, gsize size)
{
  guint old_len = out->len;
  guint8 *packet;
  guint32 crc;

  g_assert (size + 4 + 5 <= VEZA_TS_PACKET_SIZE);

  g_byte_array_set_size (out, old_len + VEZA_TS_PACKET_SIZE);
  packet = out->data + old_len;
  memset (packet, 0xff, VEZA_TS_PACKET_SIZE);
  packet[0] = 0x47;
  packet[1] = 0x40 | (pid >> 8);        /* payload_unit_start_indicator */
  packet[2] = pid & 0xff;
  packet[3] = 0x10 | *cc;               /* payload only */
  *cc = (*cc + 1) & 0x0f;
  packet[4] = 0x00;                     /* pointer_field */

  crc = veza_ts_crc32 (section, size);
  memcpy (packet + 5, section, size);
  packet[5 + size] = crc >> 24;
  packet[6 + size] = (crc >> 16) & 0xff;
  packet[7 + size] = (crc >> 8) & 0xff;
  packet[8 + size] = crc & 0xff;
}

/* The fields common to both sections: table id, length (counting the
 * CRC), the id, version 0, current, section 0 of 0. */
static gsize
section_header (guint8 *s, guint8 table_id, gsize body_size, guint16 id)
{
  gsize length = 5 + body_size + 4;

  s[0] = table_id;
  s[1] = 0xb0 | ((length >> 8) & 0x0f);  /* section_syntax_indicator, '0', reserved */
  s[2] = length & 0xff;
  s[3] = id >> 8;
  s[4] = id & 0xff;
  s[5] = 0xc1;                            /* reserved, version 0, current_next */
  s[6] = 0x00;
  s[7] = 0x00;
  return 8;
}

/**
 * veza_ts_mux_write_tables:
 * @out: where the PAT and PMT packets are appended
 */
void
veza_ts_mux_write_tables (VezaTsMux *self, GByteArray *out)
{
  guint8 s[64];
  gsize n;
  Stream *streams[] = { &self->video, &self->audio };
  gsize n_present = 0;

  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    n_present += streams[i]->present;

  /* PAT: program 1 is described by the PMT */
  n = section_header (s, 0x00, 4, TRANSPORT_STREAM_ID);
  s[n++] = PROGRAM_NUMBER >> 8;
  s[n++] = PROGRAM_NUMBER & 0xff;
  s[n++] = 0xe0 | (VEZA_TS_PID_PMT >> 8);
  s[n++] = VEZA_TS_PID_PMT & 0xff;
  write_section_packet (out, VEZA_TS_PID_PAT, &self->pat_cc, s, n);

  /* PMT: the clock's PID, then one entry per stream, no descriptors */
  n = section_header (s, 0x02, 4 + 5 * n_present, PROGRAM_NUMBER);
  s[n++] = 0xe0 | (self->pcr_stream->pid >> 8);
  s[n++] = self->pcr_stream->pid & 0xff;
  s[n++] = 0xf0;                          /* program_info_length 0 */
  s[n++] = 0x00;
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    {
      if (!streams[i]->present)
        continue;
      s[n++] = streams[i]->stream_type;
      s[n++] = 0xe0 | (streams[i]->pid >> 8);
      s[n++] = streams[i]->pid & 0xff;
      s[n++] = 0xf0;                      /* ES_info_length 0 */
      s[n++] = 0x00;
    }
  write_section_packet (out, VEZA_TS_PID_PMT, &self->pmt_cc, s, n);
}

/* ---- frames ----------------------------------------------------------- */

/* A PTS or DTS field: '4-bit prefix', then 33 bits with marker bits. */
static void
put_timestamp (guint8 *p, guint8 prefix, guint64 ts)
{
  ts &= VEZA_TS_TIME_MASK;
  p[0] = (prefix << 4) | ((ts >> 29) & 0x0e) | 0x01;
  p[1] = (ts >> 22) & 0xff;
  p[2] = ((ts >> 14) & 0xfe) | 0x01;
  p[3] = (ts >> 7) & 0xff;
  p[4] = ((ts << 1) & 0xfe) | 0x01;
}

/* A PCR with a 27 MHz extension of zero. */
static void
put_pcr (guint8 *p, guint64 base)
{
  base &= VEZA_TS_TIME_MASK;
  p[0] = (base >> 25) & 0xff;
  p[1] = (base >> 17) & 0xff;
  p[2] = (base >> 9) & 0xff;
  p[3] = (base >> 1) & 0xff;
  p[4] = ((base & 1) << 7) | 0x7e;        /* 6 reserved bits */
  p[5] = 0x00;
}

/* The PES header of one frame; returns its size. */
static gsize
pes_header (guint8 *h, VezaTsTrack track, gsize size, guint64 pts, guint64 dts)
{
  gboolean with_dts = track == VEZA_TS_TRACK_VIDEO && ((pts - dts) & VEZA_TS_TIME_MASK) != 0;
  gsize header_data = with_dts ? 10 : 5;
  gsize packet_length = 3 + header_data + size;

  h[0] = 0x00;
  h[1] = 0x00;
  h[2] = 0x01;
  h[3] = track == VEZA_TS_TRACK_VIDEO ? PES_STREAM_ID_VIDEO : PES_STREAM_ID_AUDIO;
  /* 0: unbounded, allowed for video only (large frames do not fit) */
  if (track == VEZA_TS_TRACK_VIDEO || packet_length > G_MAXUINT16)
    packet_length = 0;
  h[4] = packet_length >> 8;
  h[5] = packet_length & 0xff;
  h[6] = PES_FLAGS_ALIGNED;
  h[7] = with_dts ? 0xc0 : 0x80;          /* PTS_DTS_flags */
  h[8] = header_data;
  put_timestamp (h + 9, with_dts ? 0x3 : 0x2, pts);
  if (with_dts)
    put_timestamp (h + 14, 0x1, dts);
  return 9 + header_data;
}

/**
 * veza_ts_mux_write_frame:
 * @track: which stream @data belongs to (present in the program)
 * @data: (array length=size): one H.264 access unit (Annex B) or ADTS frame(s)
 * @pts: presentation time, 90 kHz
 * @dts: decoding time, 90 kHz (equal to @pts for audio)
 * @keyframe: a video frame decoders can start at
 * @out: where the packets are appended
 */
void
veza_ts_mux_write_frame (VezaTsMux    *self,
                         VezaTsTrack   track,
                         const guint8 *data,
                         gsize         size,
                         guint64       pts,
                         guint64       dts,
                         gboolean      keyframe,
                         GByteArray   *out)
{
  Stream *stream = track == VEZA_TS_TRACK_VIDEO ? &self->video : &self->audio;
  gboolean with_pcr = stream == self->pcr_stream;
  guint8 header[19];
  gsize header_size, total, done = 0;
  gboolean first = TRUE;

  g_return_if_fail (stream->present);
  g_return_if_fail (size == 0 || data != NULL);

  keyframe = keyframe && track == VEZA_TS_TRACK_VIDEO;
  header_size = pes_header (header, track, size, pts, dts);
  total = header_size + size;

  while (done < total)
    {
      guint old_len = out->len;
      guint8 *packet, *af;
      gsize af_size = 0, room, chunk;

      g_byte_array_set_size (out, old_len + VEZA_TS_PACKET_SIZE);
      packet = out->data + old_len;
      af = packet + 4;
      packet[0] = 0x47;
      packet[1] = (first ? 0x40 : 0x00) | (stream->pid >> 8);
      packet[2] = stream->pid & 0xff;

      if (first && (with_pcr || keyframe))
        {
          af[1] = (keyframe ? 0x40 : 0x00) | (with_pcr ? 0x10 : 0x00);
          af_size = 2;
          if (with_pcr)
            {
              put_pcr (af + 2, (dts - VEZA_TS_PCR_DELAY) & VEZA_TS_TIME_MASK);
              af_size += 6;
            }
        }

      room = TS_PAYLOAD_SIZE - af_size;
      if (total - done < room)
        {
          /* the last packet: fill it up with stuffing */
          gsize stuffing = room - (total - done);

          if (af_size == 0)
            {
              if (stuffing >= 2)
                {
                  af[1] = 0x00;
                  memset (af + 2, 0xff, stuffing - 2);
                }
              af_size = stuffing;
            }
          else
            {
              memset (af + af_size, 0xff, stuffing);
              af_size += stuffing;
            }
        }
      if (af_size > 0)
        af[0] = af_size - 1;
      packet[3] = (af_size > 0 ? 0x30 : 0x10) | stream->cc;
      stream->cc = (stream->cc + 1) & 0x0f;

      /* the payload: the rest of the PES header, then the frame */
      room = TS_PAYLOAD_SIZE - af_size;
      chunk = 0;
      if (done < header_size)
        {
          chunk = MIN (header_size - done, room);
          memcpy (af + af_size, header + done, chunk);
        }
      if (chunk < room)
        memcpy (af + af_size + chunk, data + (done + chunk - header_size), room - chunk);
      done += room;
      first = FALSE;
    }
}
