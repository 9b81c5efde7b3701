/* veza-rtmp-chunk.h — RTMP chunk stream reader and writer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "veza-rtmp-error.h"

G_BEGIN_DECLS

/* Chunk size every peer starts with. */
#define VEZA_RTMP_DEFAULT_CHUNK_SIZE      128
/* Largest Set Chunk Size accepted from a peer. The field has 31 bits, but no
 * message is longer than 16777215 bytes (its length has 24 bits), so a larger
 * chunk size can only be a broken or hostile peer: it is refused, as is 0. */
#define VEZA_RTMP_MAX_CHUNK_SIZE          0xFFFFFF
#define VEZA_RTMP_DEFAULT_MAX_MESSAGE     (8u << 20)
#define VEZA_RTMP_DEFAULT_MAX_CSTREAMS    64
/* Largest chunk stream id (3-byte basic header form). */
#define VEZA_RTMP_MAX_CSTREAM_ID          65599

typedef enum {
  VEZA_RTMP_MSG_SET_CHUNK_SIZE     = 1,
  VEZA_RTMP_MSG_ABORT              = 2,
  VEZA_RTMP_MSG_ACKNOWLEDGEMENT    = 3,
  VEZA_RTMP_MSG_USER_CONTROL       = 4,
  VEZA_RTMP_MSG_WINDOW_ACK_SIZE    = 5,
  VEZA_RTMP_MSG_SET_PEER_BANDWIDTH = 6,
  VEZA_RTMP_MSG_AUDIO              = 8,
  VEZA_RTMP_MSG_VIDEO              = 9,
  VEZA_RTMP_MSG_DATA_AMF3          = 15,
  VEZA_RTMP_MSG_COMMAND_AMF3       = 17,
  VEZA_RTMP_MSG_DATA_AMF0          = 18,
  VEZA_RTMP_MSG_COMMAND_AMF0       = 20,
  VEZA_RTMP_MSG_AGGREGATE          = 22,
} VezaRtmpMessageType;

/**
 * VezaRtmpMessage:
 * @cstream_id: the chunk stream it arrived on
 * @type: a #VezaRtmpMessageType (or another value from the peer)
 * @timestamp: absolute timestamp in ms (deltas resolved; wraps at 2^32)
 * @stream_id: the message stream id
 * @payload: the message body
 */
typedef struct {
  guint32 cstream_id;
  guint8  type;
  guint32 timestamp;
  guint32 stream_id;
  GBytes *payload;
} VezaRtmpMessage;

void veza_rtmp_message_free (VezaRtmpMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaRtmpMessage, veza_rtmp_message_free)

/**
 * VezaRtmpChunkReader:
 *
 * Reassembles messages from the chunks of one connection. Handles the four
 * header forms (fmt 0–3), extended timestamps (also on fmt 3 chunks), the
 * 1/2/3-byte chunk stream id forms and interleaved chunk streams. Set Chunk
 * Size and Abort are applied inside the reader and not handed out.
 *
 * Bounds: a message longer than @max_message_size, more than
 * @max_chunk_streams distinct chunk stream ids, a chunk size of 0 or above
 * %VEZA_RTMP_MAX_CHUNK_SIZE, or partial messages holding more than twice
 * @max_message_size in total, are errors (%VEZA_RTMP_ERROR_LIMIT). A fmt 1–3
 * chunk on a chunk stream never started with fmt 0 is a protocol error.
 */
typedef struct _VezaRtmpChunkReader VezaRtmpChunkReader;

VezaRtmpChunkReader *veza_rtmp_chunk_reader_new    (guint32 max_message_size,
                                                    guint   max_chunk_streams);
void                 veza_rtmp_chunk_reader_free   (VezaRtmpChunkReader *reader);
/**
 * veza_rtmp_chunk_reader_feed:
 * @messages: (element-type VezaRtmpMessage): complete messages are appended
 *   here; give it veza_rtmp_message_free() as free function
 *
 * Consumes all of @data (incomplete chunks are kept for the next call).
 * After an error the reader refuses further input.
 */
gboolean             veza_rtmp_chunk_reader_feed   (VezaRtmpChunkReader *reader,
                                                    const guint8        *data,
                                                    gsize                len,
                                                    GPtrArray           *messages,
                                                    GError             **error);
guint32              veza_rtmp_chunk_reader_get_chunk_size (VezaRtmpChunkReader *reader);
guint                veza_rtmp_chunk_reader_get_n_chunk_streams (VezaRtmpChunkReader *reader);

/**
 * VezaRtmpChunkWriter:
 *
 * Splits outgoing messages into chunks: a fmt 0 header then fmt 3
 * continuations (with the extended timestamp repeated when it is used).
 * Writing a Set Chunk Size message switches the writer to that size for the
 * following messages.
 */
typedef struct _VezaRtmpChunkWriter VezaRtmpChunkWriter;

VezaRtmpChunkWriter *veza_rtmp_chunk_writer_new   (void);
void                 veza_rtmp_chunk_writer_free  (VezaRtmpChunkWriter *writer);
guint32              veza_rtmp_chunk_writer_get_chunk_size (VezaRtmpChunkWriter *writer);
void                 veza_rtmp_chunk_writer_write (VezaRtmpChunkWriter *writer,
                                                   GByteArray          *out,
                                                   guint32              cstream_id,
                                                   guint8               type,
                                                   guint32              timestamp,
                                                   guint32              stream_id,
                                                   const guint8        *payload,
                                                   gsize                len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaRtmpChunkReader, veza_rtmp_chunk_reader_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaRtmpChunkWriter, veza_rtmp_chunk_writer_free)

G_END_DECLS
