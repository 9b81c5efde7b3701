/* veza-rtmp-session-private.h — what the server uses of a session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-rtmp-session.h"
#include "veza-rtmp-server.h"
#include "veza-fd-poller.h"

G_BEGIN_DECLS

/* Called when the client publishes; the receiver answers through
 * accept/reject_publish, now or later. Returns FALSE if nobody will answer
 * (the session then rejects at once). */
typedef gboolean (*VezaRtmpPublishFunc) (VezaRtmpSession *session,
                                         gpointer         user_data);

VezaRtmpSession *veza_rtmp_session_new   (GSocketConnection    *connection,
                                          const VezaRtmpLimits *limits,
                                          VezaRtmpPublishFunc   publish_func,
                                          gpointer              user_data);
void             veza_rtmp_session_start (VezaRtmpSession *self,
                                          VezaFdPoller    *poller);

G_END_DECLS
