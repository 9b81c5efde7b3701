/* veza-rtmp-session.h — one RTMP publisher connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VEZA_TYPE_RTMP_SESSION (veza_rtmp_session_get_type ())
G_DECLARE_FINAL_TYPE (VezaRtmpSession, veza_rtmp_session, VEZA, RTMP_SESSION, GObject)

/**
 * VezaRtmpSession:
 *
 * One client connection of a #VezaRtmpServer, driven by asynchronous GIO
 * calls on the thread-default main context of its creation; all its signals
 * are emitted there.
 *
 * Signals:
 * - `media` (guint type, guint32 timestamp_ms, GBytes *payload): an audio (8),
 *   video (9) or script data (18, `onMetaData` only, the `@setDataFrame`
 *   wrapper removed) message, body = FLV tag body; only after
 *   veza_rtmp_session_accept_publish(); absolute timestamps.
 * - `unpublished` (): FCUnpublish, deleteStream or closeStream after a
 *   publish; emitted once.
 * - `closed` (const GError *error): the connection is gone; %NULL error for a
 *   clean close. Emitted exactly once.
 */

/* (nullable): "ip:port" of the peer */
const char *veza_rtmp_session_get_remote_address (VezaRtmpSession *self);
/* (nullable): the application from `connect` (e.g. "live"), known after connect */
const char *veza_rtmp_session_get_app            (VezaRtmpSession *self);
/* (nullable): the publish name without '?query' — the stream key: never log it */
const char *veza_rtmp_session_get_stream_name    (VezaRtmpSession *self);
guint64     veza_rtmp_session_get_bytes_received (VezaRtmpSession *self);

/* Answers a publish request (see #VezaRtmpServer::publish); exactly one of
 * these, once. Without effect on a closed session. */
void veza_rtmp_session_accept_publish (VezaRtmpSession *self);
void veza_rtmp_session_reject_publish (VezaRtmpSession *self,
                                       const char      *code,
                                       const char      *description);
/* Server-initiated disconnect; "closed" is emitted with a %NULL error. */
void veza_rtmp_session_close          (VezaRtmpSession *self);

G_END_DECLS
