/* veza-rtmp-handshake.h — server side of the RTMP handshake
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "veza-rtmp-error.h"

G_BEGIN_DECLS

#define VEZA_RTMP_VERSION        3
#define VEZA_RTMP_HANDSHAKE_SIZE 1536

/**
 * VezaRtmpHandshake:
 *
 * The server half of the simple RTMP handshake, as a pure state machine:
 * client bytes go in, server bytes come out. It reads C0+C1, answers with
 * S0+S1+S2 (S2 echoes C1), then reads C2. Clients that start the "complex"
 * (digest) handshake accept this answer, as they do from any simple server:
 * bytes 4–7 of S1 are zero, which tells them no digest is present.
 */
typedef struct _VezaRtmpHandshake VezaRtmpHandshake;

VezaRtmpHandshake *veza_rtmp_handshake_new     (void);
void               veza_rtmp_handshake_free    (VezaRtmpHandshake *hs);

/**
 * veza_rtmp_handshake_feed:
 * @data: (array length=len): bytes received from the client
 * @consumed: (out): how many of them the handshake used; once it is done, the
 *   rest is the start of the chunk stream
 * @out: bytes to send to the client are appended here
 *
 * Returns: %FALSE with @error set (%VEZA_RTMP_ERROR_HANDSHAKE) on a bad
 *   version byte; the connection must then be closed
 */
gboolean           veza_rtmp_handshake_feed    (VezaRtmpHandshake *hs,
                                                const guint8      *data,
                                                gsize              len,
                                                gsize             *consumed,
                                                GByteArray        *out,
                                                GError           **error);
gboolean           veza_rtmp_handshake_is_done (const VezaRtmpHandshake *hs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaRtmpHandshake, veza_rtmp_handshake_free)

G_END_DECLS
