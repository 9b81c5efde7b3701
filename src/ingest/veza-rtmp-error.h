/* veza-rtmp-error.h — the error domain of the RTMP ingest
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VEZA_RTMP_ERROR (veza_rtmp_error_quark ())
GQuark veza_rtmp_error_quark (void);

/**
 * VezaRtmpError:
 * @VEZA_RTMP_ERROR_HANDSHAKE: a malformed or unsupported handshake
 * @VEZA_RTMP_ERROR_PROTOCOL: malformed chunks or messages
 * @VEZA_RTMP_ERROR_LIMIT: a bound (message size, chunk size, chunk streams…) was exceeded
 * @VEZA_RTMP_ERROR_TIMEOUT: the peer was too slow or went idle
 * @VEZA_RTMP_ERROR_REJECTED: the connection was refused
 */
typedef enum {
  VEZA_RTMP_ERROR_HANDSHAKE,
  VEZA_RTMP_ERROR_PROTOCOL,
  VEZA_RTMP_ERROR_LIMIT,
  VEZA_RTMP_ERROR_TIMEOUT,
  VEZA_RTMP_ERROR_REJECTED,
} VezaRtmpError;

G_END_DECLS
