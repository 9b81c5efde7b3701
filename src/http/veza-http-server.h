/* veza-http-server.h — the libsoup server, its router and the JSON envelope
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include "veza-plugin.h"

G_BEGIN_DECLS

#define VEZA_HTTP_MAX_BODY (64 * 1024)

#define VEZA_TYPE_HTTP_SERVER (veza_http_server_get_type ())
G_DECLARE_FINAL_TYPE (VezaHttpServer, veza_http_server, VEZA, HTTP_SERVER, GObject)

/* Resolves a bearer token to a user id (nullable: invalid or expired). The
 * error is set only when the lookup itself failed (database down). */
typedef void (*VezaAuthenticateFunc) (const char          *token,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             callback_data,
                                      gpointer             user_data);
typedef char *(*VezaAuthenticateFinishFunc) (GAsyncResult  *result,
                                             GError       **error,
                                             gpointer       user_data);

VezaHttpServer *veza_http_server_new         (void);
gboolean        veza_http_server_listen      (VezaHttpServer  *self,
                                              const char      *address,
                                              guint16          port,
                                              guint16         *out_port,
                                              GError         **error);
void            veza_http_server_disconnect  (VezaHttpServer  *self);
SoupServer     *veza_http_server_get_soup_server (VezaHttpServer *self);
void            veza_http_server_add_route   (VezaHttpServer   *self,
                                              const char       *method,
                                              const char       *pattern,
                                              VezaRouteFlags    flags,
                                              VezaRouteHandler  handler,
                                              gpointer          user_data,
                                              GDestroyNotify    destroy);
void            veza_http_server_remove_routes_by_data (VezaHttpServer *self,
                                                        gpointer        user_data);
void            veza_http_server_set_authenticator (VezaHttpServer             *self,
                                                    VezaAuthenticateFunc        func,
                                                    VezaAuthenticateFinishFunc  finish,
                                                    gpointer                    user_data);

/* Internal part of VezaRequest */
VezaRequest    *veza_request_new             (SoupServerMessage *msg,
                                              const char        *path);
void            veza_request_set_param       (VezaRequest *request,
                                              const char  *name,
                                              const char  *value);
void            veza_request_set_user_id     (VezaRequest *request,
                                              const char  *user_id);
/* The bearer token of the Authorization header, or NULL */
const char     *veza_request_get_bearer_token (VezaRequest *request);
/* Emitted when the request was answered: for metrics */
typedef void  (*VezaRequestAnsweredFunc)     (VezaRequest *request,
                                              guint        status,
                                              gpointer     user_data);

G_END_DECLS
