/* veza-rtmp-server.h — the RTMP ingest server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "veza-rtmp-error.h"
#include "veza-rtmp-session.h"

G_BEGIN_DECLS

/**
 * VezaRtmpLimits:
 * @max_connections: sessions at once (256)
 * @max_connections_per_address: sessions at once from one IP address (16)
 * @handshake_timeout_s: time for the handshake, connect and publish to
 *   complete, and again for the answer to a publish (10)
 * @idle_timeout_s: a session that receives no byte for that long is closed (30)
 * @max_message_size: largest RTMP message accepted (8 MiB)
 * @max_chunk_streams: distinct chunk stream ids per connection (64)
 */
typedef struct {
  guint   max_connections;
  guint   max_connections_per_address;
  guint   handshake_timeout_s;
  guint   idle_timeout_s;
  guint32 max_message_size;
  guint   max_chunk_streams;
} VezaRtmpLimits;

void veza_rtmp_limits_init_default (VezaRtmpLimits *limits);

#define VEZA_TYPE_RTMP_SERVER (veza_rtmp_server_get_type ())
G_DECLARE_FINAL_TYPE (VezaRtmpServer, veza_rtmp_server, VEZA, RTMP_SERVER, GObject)

/**
 * VezaRtmpServer:
 *
 * Accepts RTMP publishers. Signal `publish` (VezaRtmpSession *session,
 * const char *app, const char *stream_name) is emitted when a client
 * publishes; stream_name is the stream key (never log it). The handler must
 * then call veza_rtmp_session_accept_publish() or
 * veza_rtmp_session_reject_publish(), at once or later; without an answer
 * within handshake_timeout_s, or without any handler, the session rejects the
 * publish itself.
 */

/* @limits: (nullable): %NULL for the defaults */
VezaRtmpServer *veza_rtmp_server_new    (const VezaRtmpLimits *limits);
/* Listens on @address (an IP literal) and @port (0: any free port, reported in @out_port). */
gboolean        veza_rtmp_server_listen (VezaRtmpServer *self,
                                         const char     *address,
                                         guint16         port,
                                         guint16        *out_port,
                                         GError        **error);
/* Closes the listeners and every session. */
void            veza_rtmp_server_stop   (VezaRtmpServer *self);
/* Bytes received over all sessions since the server was made. */
guint64         veza_rtmp_server_get_bytes_received (VezaRtmpServer *self);
guint           veza_rtmp_server_get_n_sessions     (VezaRtmpServer *self);

G_END_DECLS
