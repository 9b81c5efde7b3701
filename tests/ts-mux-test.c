/* ts-mux-test.c: MPEG-TS packets of veza-ts-mux, read back field by field
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small demultiplexer written from ISO/IEC 13818-1 reads what the muxer
 * wrote: packet headers, adaptation fields, PSI sections with their CRC,
 * PES headers; the frames must come back byte for byte.
 */

#include <string.h>

#include <glib.h>

#include "media/veza-ts-mux.h"

typedef struct
{
  guint16 pid;
  gboolean pusi;
  guint cc;
  gboolean has_payload;
  gboolean random_access;
  gboolean has_pcr;
  guint64 pcr;
  const guint8 *payload;
  gsize payload_size;
} Packet;

/* Parses one packet, checking every field the standard fixes. */
static void
parse_packet (const guint8 *p, Packet *out)
{
  guint afc;
  gsize offset = 4;

  memset (out, 0, sizeof *out);
  g_assert_cmpuint (p[0], ==, 0x47);
  g_assert_cmpuint (p[1] & 0x80, ==, 0);                /* no transport error */
  out->pusi = (p[1] & 0x40) != 0;
  out->pid = ((p[1] & 0x1f) << 8) | p[2];
  g_assert_cmpuint (p[3] & 0xc0, ==, 0);                /* not scrambled */
  afc = (p[3] >> 4) & 0x3;
  g_assert_cmpuint (afc, !=, 0);
  out->cc = p[3] & 0x0f;
  out->has_payload = (afc & 1) != 0;

  if (afc & 2)
    {
      guint length = p[4];

      g_assert_cmpuint (length, <=, 183);
      if (!out->has_payload)
        g_assert_cmpuint (length, ==, 183);
      if (length > 0)
        {
          guint flags = p[5];
          gsize at = 6;

          out->random_access = (flags & 0x40) != 0;
          out->has_pcr = (flags & 0x10) != 0;
          g_assert_cmpuint (flags & 0x0f, ==, 0);       /* no OPCR, splice, private, extension */
          if (out->has_pcr)
            {
              const guint8 *b = p + at;
              out->pcr = ((guint64) b[0] << 25) | ((guint64) b[1] << 17) | ((guint64) b[2] << 9) |
                         ((guint64) b[3] << 1) | (b[4] >> 7);
              g_assert_cmpuint (b[4] & 0x7e, ==, 0x7e);  /* reserved bits */
              g_assert_cmpuint (((b[4] & 1) << 8) | b[5], ==, 0);
              at += 6;
            }
          /* the rest is stuffing */
          for (; at < 5 + length; at++)
            g_assert_cmpuint (p[at], ==, 0xff);
        }
      offset = 5 + length;
    }
  out->payload = p + offset;
  out->payload_size = VEZA_TS_PACKET_SIZE - offset;
}

static guint64
read_timestamp (const guint8 *b, guint8 prefix)
{
  g_assert_cmpuint (b[0] >> 4, ==, prefix);
  g_assert_cmpuint (b[0] & 1, ==, 1);
  g_assert_cmpuint (b[2] & 1, ==, 1);
  g_assert_cmpuint (b[4] & 1, ==, 1);
  return ((guint64) (b[0] & 0x0e) << 29) | ((guint64) b[1] << 22) | ((guint64) (b[2] >> 1) << 15) |
         ((guint64) b[3] << 7) | (b[4] >> 1);
}

/* Checks one PSI section packet; returns the section (without the CRC). */
static GBytes *
read_section (const guint8 *p, guint16 pid, guint8 table_id)
{
  Packet packet;
  const guint8 *s;
  gsize length;

  parse_packet (p, &packet);
  g_assert_cmpuint (packet.pid, ==, pid);
  g_assert_true (packet.pusi);
  g_assert_true (packet.has_payload);
  g_assert_cmpuint (packet.payload[0], ==, 0);          /* pointer_field */
  s = packet.payload + 1;
  g_assert_cmpuint (s[0], ==, table_id);
  g_assert_cmpuint (s[1] & 0xf0, ==, 0xb0);
  length = ((s[1] & 0x0f) << 8) | s[2];
  g_assert_cmpuint (3 + length, <=, packet.payload_size - 1);
  /* the CRC over the whole section, its own included, leaves 0 */
  g_assert_cmpuint (veza_ts_crc32 (s, 3 + length), ==, 0);
  for (gsize i = 1 + 3 + length; i < packet.payload_size; i++)
    g_assert_cmpuint (packet.payload[i], ==, 0xff);
  return g_bytes_new (s, 3 + length - 4);
}

static void
test_crc (void)
{
  /* the check value of CRC-32/MPEG-2 */
  g_assert_cmphex (veza_ts_crc32 ((const guint8 *) "123456789", 9), ==, 0x0376e6e7);
  g_assert_cmphex (veza_ts_crc32 (NULL, 0), ==, 0xffffffff);
}

static void
check_tables (gboolean has_video, gboolean has_audio)
{
  g_autoptr (VezaTsMux) mux = veza_ts_mux_new (has_video, has_audio);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GBytes) pat = NULL;
  g_autoptr (GBytes) pmt = NULL;
  const guint8 *s;
  gsize size, n_streams;
  guint16 pcr_pid;

  veza_ts_mux_write_tables (mux, out);
  g_assert_cmpuint (out->len, ==, 2 * VEZA_TS_PACKET_SIZE);

  pat = read_section (out->data, VEZA_TS_PID_PAT, 0x00);
  s = g_bytes_get_data (pat, &size);
  g_assert_cmpuint (size, ==, 8 + 4);
  g_assert_cmpuint (s[5] & 0x01, ==, 1);                /* current_next */
  g_assert_cmpuint ((s[8] << 8) | s[9], ==, 1);         /* program 1 ... */
  g_assert_cmpuint (((s[10] & 0x1f) << 8) | s[11], ==, VEZA_TS_PID_PMT);  /* ... in the PMT */

  pmt = read_section (out->data + VEZA_TS_PACKET_SIZE, VEZA_TS_PID_PMT, 0x02);
  s = g_bytes_get_data (pmt, &size);
  g_assert_cmpuint ((s[3] << 8) | s[4], ==, 1);
  pcr_pid = ((s[8] & 0x1f) << 8) | s[9];
  g_assert_cmpuint (pcr_pid, ==, has_video ? VEZA_TS_PID_VIDEO : VEZA_TS_PID_AUDIO);
  g_assert_cmpuint (((s[10] & 0x0f) << 8) | s[11], ==, 0);
  n_streams = (size - 12) / 5;
  g_assert_cmpuint (size, ==, 12 + 5 * n_streams);
  g_assert_cmpuint (n_streams, ==, (guint) has_video + (guint) has_audio);
  for (gsize i = 0; i < n_streams; i++)
    {
      const guint8 *e = s + 12 + 5 * i;
      guint16 pid = ((e[1] & 0x1f) << 8) | e[2];

      if (pid == VEZA_TS_PID_VIDEO)
        g_assert_cmpuint (e[0], ==, VEZA_TS_STREAM_TYPE_H264);
      else
        {
          g_assert_cmpuint (pid, ==, VEZA_TS_PID_AUDIO);
          g_assert_cmpuint (e[0], ==, VEZA_TS_STREAM_TYPE_AAC_ADTS);
        }
      g_assert_cmpuint (((e[3] & 0x0f) << 8) | e[4], ==, 0);
    }

  /* the continuity counters of the tables move on */
  g_byte_array_set_size (out, 0);
  veza_ts_mux_write_tables (mux, out);
  g_assert_cmpuint (out->data[3] & 0x0f, ==, 1);
  g_assert_cmpuint (out->data[VEZA_TS_PACKET_SIZE + 3] & 0x0f, ==, 1);
}

static void
test_tables (void)
{
  check_tables (TRUE, TRUE);
  check_tables (TRUE, FALSE);
  check_tables (FALSE, TRUE);
}

typedef struct
{
  guint16 pid;
  guint8 stream_id;
  guint64 pts;
  guint64 dts;
  gboolean has_dts;
  gsize declared_length;        /* PES_packet_length */
  gboolean random_access;
  gboolean has_pcr;
  guint64 pcr;
  GByteArray *data;
  guint n_packets;
} Pes;

static void
pes_clear (Pes *pes)
{
  g_clear_pointer (&pes->data, g_byte_array_unref);
}

/* Reads the PES packet that fills @out, checking the continuity counter
 * against *@cc (-1: any). */
static void
read_pes (GByteArray *out, int *cc, Pes *pes)
{
  GByteArray *bytes = g_byte_array_new ();
  const guint8 *h;
  gsize header_size;

  memset (pes, 0, sizeof *pes);
  g_assert_cmpuint (out->len % VEZA_TS_PACKET_SIZE, ==, 0);
  pes->n_packets = out->len / VEZA_TS_PACKET_SIZE;
  for (guint i = 0; i < pes->n_packets; i++)
    {
      Packet packet;

      parse_packet (out->data + i * VEZA_TS_PACKET_SIZE, &packet);
      g_assert_true (packet.has_payload);
      g_assert_true (packet.pusi == (i == 0));
      if (i == 0)
        {
          pes->pid = packet.pid;
          pes->random_access = packet.random_access;
          pes->has_pcr = packet.has_pcr;
          pes->pcr = packet.pcr;
        }
      else
        {
          g_assert_cmpuint (packet.pid, ==, pes->pid);
          g_assert_false (packet.has_pcr);
          g_assert_false (packet.random_access);
        }
      if (*cc >= 0)
        g_assert_cmpuint (packet.cc, ==, (guint) (*cc + 1) & 0x0f);
      *cc = packet.cc;
      g_byte_array_append (bytes, packet.payload, packet.payload_size);
    }

  h = bytes->data;
  g_assert_cmpuint (bytes->len, >=, 14);
  g_assert_true (h[0] == 0 && h[1] == 0 && h[2] == 1);
  pes->stream_id = h[3];
  pes->declared_length = (h[4] << 8) | h[5];
  g_assert_cmpuint (h[6] & 0xc0, ==, 0x80);
  g_assert_cmpuint (h[6] & 0x04, ==, 0x04);              /* data_alignment_indicator */
  g_assert_cmpuint (h[7] & 0x3f, ==, 0);                 /* no other optional fields */
  pes->has_dts = (h[7] & 0xc0) == 0xc0;
  g_assert_cmpuint (h[7] & 0x80, ==, 0x80);
  g_assert_cmpuint (h[8], ==, pes->has_dts ? 10 : 5);
  pes->pts = read_timestamp (h + 9, pes->has_dts ? 0x3 : 0x2);
  pes->dts = pes->has_dts ? read_timestamp (h + 14, 0x1) : pes->pts;
  header_size = 9 + h[8];
  if (pes->declared_length != 0)
    g_assert_cmpuint (pes->declared_length, ==, bytes->len - 6);
  pes->data = g_byte_array_new ();
  g_byte_array_append (pes->data, bytes->data + header_size, bytes->len - header_size);
  g_byte_array_unref (bytes);
}

static GByteArray *
pattern (gsize size, guint seed)
{
  GByteArray *data = g_byte_array_sized_new (size);

  g_byte_array_set_size (data, size);
  for (gsize i = 0; i < size; i++)
    data->data[i] = (guint8) (i * 31 + seed);
  return data;
}

static void
test_video_frames (void)
{
  g_autoptr (VezaTsMux) mux = veza_ts_mux_new (TRUE, TRUE);
  int cc = -1;

  /* every size around the packet boundaries, with and without B-frames */
  for (gsize size = 0; size < 3 * 184 + 40; size++)
    {
      g_autoptr (GByteArray) frame = pattern (size, size);
      g_autoptr (GByteArray) out = g_byte_array_new ();
      gboolean keyframe = size % 7 == 0;
      guint64 dts = 90000 + size * 3000;
      guint64 pts = size % 3 ? dts + 6000 : dts;
      Pes pes;

      veza_ts_mux_write_frame (mux, VEZA_TS_TRACK_VIDEO, frame->data, frame->len, pts, dts,
                               keyframe, out);
      read_pes (out, &cc, &pes);
      g_assert_cmpuint (pes.pid, ==, VEZA_TS_PID_VIDEO);
      g_assert_cmpuint (pes.stream_id, ==, 0xe0);
      g_assert_cmpuint (pes.declared_length, ==, 0);
      g_assert_cmpuint (pes.pts, ==, pts);
      g_assert_cmpuint (pes.dts, ==, dts);
      g_assert_true (pes.has_dts == (pts != dts));
      g_assert_true (pes.random_access == keyframe);
      /* the video track carries the clock, behind the decoding time */
      g_assert_true (pes.has_pcr);
      g_assert_cmpuint (pes.pcr, ==, dts - VEZA_TS_PCR_DELAY);
      g_assert_cmpmem (pes.data->data, pes.data->len, frame->data, frame->len);
      pes_clear (&pes);
    }
}

static void
test_audio_frames (void)
{
  g_autoptr (VezaTsMux) with_video = veza_ts_mux_new (TRUE, TRUE);
  g_autoptr (VezaTsMux) audio_only = veza_ts_mux_new (FALSE, TRUE);
  int cc = -1, cc_only = -1;

  for (gsize size = 1; size < 2 * 184 + 20; size += 3)
    {
      g_autoptr (GByteArray) frame = pattern (size, 7);
      g_autoptr (GByteArray) out = g_byte_array_new ();
      g_autoptr (GByteArray) out_only = g_byte_array_new ();
      guint64 pts = 123456 + size * 1920;
      Pes pes;

      /* a decoding time differing from the presentation time is ignored */
      veza_ts_mux_write_frame (with_video, VEZA_TS_TRACK_AUDIO, frame->data, frame->len, pts,
                               pts - 10, TRUE, out);
      read_pes (out, &cc, &pes);
      g_assert_cmpuint (pes.pid, ==, VEZA_TS_PID_AUDIO);
      g_assert_cmpuint (pes.stream_id, ==, 0xc0);
      g_assert_cmpuint (pes.declared_length, ==, 3 + 5 + size);
      g_assert_false (pes.has_dts);
      g_assert_cmpuint (pes.pts, ==, pts);
      g_assert_false (pes.random_access);
      g_assert_false (pes.has_pcr);
      g_assert_cmpmem (pes.data->data, pes.data->len, frame->data, frame->len);
      pes_clear (&pes);

      /* without video, audio carries the clock */
      veza_ts_mux_write_frame (audio_only, VEZA_TS_TRACK_AUDIO, frame->data, frame->len, pts,
                               pts, FALSE, out_only);
      read_pes (out_only, &cc_only, &pes);
      g_assert_true (pes.has_pcr);
      g_assert_cmpuint (pes.pcr, ==, pts - VEZA_TS_PCR_DELAY);
      g_assert_cmpmem (pes.data->data, pes.data->len, frame->data, frame->len);
      pes_clear (&pes);
    }
}

static void
test_large_frame (void)
{
  g_autoptr (VezaTsMux) mux = veza_ts_mux_new (TRUE, TRUE);
  g_autoptr (GByteArray) frame = pattern (300 * 1024, 3);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GByteArray) audio = pattern (70 * 1024, 5);
  int cc = -1, audio_cc = -1;
  Pes pes;

  veza_ts_mux_write_frame (mux, VEZA_TS_TRACK_VIDEO, frame->data, frame->len, 9000, 9000, TRUE, out);
  read_pes (out, &cc, &pes);
  g_assert_cmpmem (pes.data->data, pes.data->len, frame->data, frame->len);
  pes_clear (&pes);

  /* audio too large for PES_packet_length: unbounded */
  g_byte_array_set_size (out, 0);
  veza_ts_mux_write_frame (mux, VEZA_TS_TRACK_AUDIO, audio->data, audio->len, 9000, 9000, FALSE, out);
  read_pes (out, &audio_cc, &pes);
  g_assert_cmpuint (pes.declared_length, ==, 0);
  g_assert_cmpmem (pes.data->data, pes.data->len, audio->data, audio->len);
  pes_clear (&pes);
}

static void
test_timestamp_wrap (void)
{
  g_autoptr (VezaTsMux) mux = veza_ts_mux_new (TRUE, FALSE);
  guint8 frame[10] = { 0, 0, 0, 1, 9, 0xf0, 0, 0, 0, 1 };
  guint64 top = VEZA_TS_TIME_MASK;
  int cc = -1;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      guint64 dts = (top - 3000 + i * 3000) & VEZA_TS_TIME_MASK;
      guint64 pts = (dts + 6000) & VEZA_TS_TIME_MASK;
      Pes pes;

      veza_ts_mux_write_frame (mux, VEZA_TS_TRACK_VIDEO, frame, sizeof frame, pts, dts, i == 0, out);
      read_pes (out, &cc, &pes);
      g_assert_cmpuint (pes.pts, ==, pts);
      g_assert_cmpuint (pes.dts, ==, dts);
      g_assert_cmpuint (pes.pcr, ==, (dts - VEZA_TS_PCR_DELAY) & VEZA_TS_TIME_MASK);
      pes_clear (&pes);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/veza/ts-mux/crc", test_crc);
  g_test_add_func ("/veza/ts-mux/tables", test_tables);
  g_test_add_func ("/veza/ts-mux/video-frames", test_video_frames);
  g_test_add_func ("/veza/ts-mux/audio-frames", test_audio_frames);
  g_test_add_func ("/veza/ts-mux/large-frame", test_large_frame);
  g_test_add_func ("/veza/ts-mux/timestamp-wrap", test_timestamp_wrap);

  return g_test_run ();
}
