/* veza-amf0.c — bounded AMF0 decoder and encoder
 *
 * AMF0 is the encoding of RTMP commands and script data. Every length read
 * from the input is checked against what remains before anything is
 * allocated; nesting, element count and input size are bounded so that any
 * input ends in a value or a GError.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-amf0.h"

#include <string.h>

G_DEFINE_QUARK (veza-amf0-error-quark, veza_amf0_error)

typedef struct {
  char *name;
  VezaAmf0Value *value;
} Property;

struct _VezaAmf0Value {
  VezaAmf0Type kind;
  union {
    double number;
    gboolean boolean;
    struct {
      char *data;
      gsize len;
    } string;
    struct {
      double ms;
      gint16 tz;
    } date;
    GPtrArray *children; /* Property* for object/ecma array, VezaAmf0Value* for strict array */
  } u;
};

/* ---------------------------------------------------------------------- */
/* Values                                                                 */
/* ---------------------------------------------------------------------- */

static VezaAmf0Value *
value_new (VezaAmf0Type kind)
{
  VezaAmf0Value *v = g_new0 (VezaAmf0Value, 1);
  v->kind = kind;
  return v;
}

static void
property_free (gpointer data)
{
  Property *p = data;
  g_free (p->name);
  veza_amf0_value_free (p->value);
  g_free (p);
}

VezaAmf0Value *
veza_amf0_value_new_number (double value)
{
  VezaAmf0Value *v = value_new (VEZA_AMF0_NUMBER);
  v->u.number = value;
  return v;
}

VezaAmf0Value *
veza_amf0_value_new_boolean (gboolean value)
{
  VezaAmf0Value *v = value_new (VEZA_AMF0_BOOLEAN);
  v->u.boolean = !!value;
  return v;
}

VezaAmf0Value *
veza_amf0_value_new_string_len (const char *value, gsize len)
{
  VezaAmf0Value *v = value_new (len > G_MAXUINT16 ? VEZA_AMF0_LONG_STRING : VEZA_AMF0_STRING);
  v->u.string.data = g_malloc (len + 1);
  if (len > 0)
    memcpy (v->u.string.data, value, len);
  v->u.string.data[len] = '\0';
  v->u.string.len = len;
  return v;
}

VezaAmf0Value *
veza_amf0_value_new_string (const char *value)
{
  return veza_amf0_value_new_string_len (value ? value : "", value ? strlen (value) : 0);
}

VezaAmf0Value *
veza_amf0_value_new_null (void)
{
  return value_new (VEZA_AMF0_NULL);
}

VezaAmf0Value *
veza_amf0_value_new_undefined (void)
{
  return value_new (VEZA_AMF0_UNDEFINED);
}

VezaAmf0Value *
veza_amf0_value_new_object (void)
{
  VezaAmf0Value *v = value_new (VEZA_AMF0_OBJECT);
  v->u.children = g_ptr_array_new_with_free_func (property_free);
  return v;
}

VezaAmf0Value *
veza_amf0_value_new_ecma_array (void)
{
  VezaAmf0Value *v = value_new (VEZA_AMF0_ECMA_ARRAY);
  v->u.children = g_ptr_array_new_with_free_func (property_free);
  return v;
}

VezaAmf0Value *
veza_amf0_value_new_strict_array (void)
{
  VezaAmf0Value *v = value_new (VEZA_AMF0_STRICT_ARRAY);
  v->u.children = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_amf0_value_free);
  return v;
}

VezaAmf0Value *
veza_amf0_value_new_date (double ms_since_epoch, gint16 tz_minutes)
{
  VezaAmf0Value *v = value_new (VEZA_AMF0_DATE);
  v->u.date.ms = ms_since_epoch;
  v->u.date.tz = tz_minutes;
  return v;
}

static gboolean
is_container (const VezaAmf0Value *v)
{
  return v->kind == VEZA_AMF0_OBJECT || v->kind == VEZA_AMF0_ECMA_ARRAY ||
         v->kind == VEZA_AMF0_STRICT_ARRAY;
}

void
veza_amf0_value_free (VezaAmf0Value *value)
{
  if (value == NULL)
    return;
  if (is_container (value))
    g_ptr_array_unref (value->u.children);
  else if (value->kind == VEZA_AMF0_STRING || value->kind == VEZA_AMF0_LONG_STRING)
    g_free (value->u.string.data);
  g_free (value);
}

VezaAmf0Value *
veza_amf0_value_copy (const VezaAmf0Value *value)
{
  VezaAmf0Value *copy;

  g_return_val_if_fail (value != NULL, NULL);

  switch (value->kind)
    {
    case VEZA_AMF0_STRING:
    case VEZA_AMF0_LONG_STRING:
      copy = veza_amf0_value_new_string_len (value->u.string.data, value->u.string.len);
      copy->kind = value->kind;
      return copy;
    case VEZA_AMF0_OBJECT:
    case VEZA_AMF0_ECMA_ARRAY:
      copy = value_new (value->kind);
      copy->u.children = g_ptr_array_new_with_free_func (property_free);
      for (guint i = 0; i < value->u.children->len; i++)
        {
          const Property *p = g_ptr_array_index (value->u.children, i);
          veza_amf0_value_set (copy, p->name, veza_amf0_value_copy (p->value));
        }
      return copy;
    case VEZA_AMF0_STRICT_ARRAY:
      copy = veza_amf0_value_new_strict_array ();
      for (guint i = 0; i < value->u.children->len; i++)
        veza_amf0_value_append (copy,
                                veza_amf0_value_copy (g_ptr_array_index (value->u.children, i)));
      return copy;
    default:
      copy = value_new (value->kind);
      copy->u = value->u;
      return copy;
    }
}

VezaAmf0Type
veza_amf0_value_kind (const VezaAmf0Value *value)
{
  return value->kind;
}

double
veza_amf0_value_get_number (const VezaAmf0Value *value)
{
  if (value->kind == VEZA_AMF0_NUMBER)
    return value->u.number;
  if (value->kind == VEZA_AMF0_DATE)
    return value->u.date.ms;
  return 0;
}

gboolean
veza_amf0_value_get_boolean (const VezaAmf0Value *value)
{
  return value->kind == VEZA_AMF0_BOOLEAN ? value->u.boolean : FALSE;
}

gint16
veza_amf0_value_get_date_tz (const VezaAmf0Value *value)
{
  return value->kind == VEZA_AMF0_DATE ? value->u.date.tz : 0;
}

const char *
veza_amf0_value_get_string (const VezaAmf0Value *value, gsize *len)
{
  if (value->kind != VEZA_AMF0_STRING && value->kind != VEZA_AMF0_LONG_STRING)
    {
      if (len)
        *len = 0;
      return NULL;
    }
  if (len)
    *len = value->u.string.len;
  return value->u.string.data;
}

guint
veza_amf0_value_get_n_children (const VezaAmf0Value *value)
{
  return is_container (value) ? value->u.children->len : 0;
}

const VezaAmf0Value *
veza_amf0_value_get_child (const VezaAmf0Value *value, guint index, const char **name)
{
  if (name)
    *name = NULL;
  if (!is_container (value) || index >= value->u.children->len)
    return NULL;
  if (value->kind == VEZA_AMF0_STRICT_ARRAY)
    return g_ptr_array_index (value->u.children, index);

  const Property *p = g_ptr_array_index (value->u.children, index);
  if (name)
    *name = p->name;
  return p->value;
}

const VezaAmf0Value *
veza_amf0_value_lookup (const VezaAmf0Value *value, const char *name)
{
  if (value == NULL || (value->kind != VEZA_AMF0_OBJECT && value->kind != VEZA_AMF0_ECMA_ARRAY))
    return NULL;
  for (guint i = 0; i < value->u.children->len; i++)
    {
      const Property *p = g_ptr_array_index (value->u.children, i);
      if (g_strcmp0 (p->name, name) == 0)
        return p->value;
    }
  return NULL;
}

const char *
veza_amf0_value_lookup_string (const VezaAmf0Value *value, const char *name)
{
  const VezaAmf0Value *v = veza_amf0_value_lookup (value, name);
  return v ? veza_amf0_value_get_string (v, NULL) : NULL;
}

void
veza_amf0_value_set (VezaAmf0Value *object, const char *name, VezaAmf0Value *child)
{
  g_return_if_fail (object->kind == VEZA_AMF0_OBJECT || object->kind == VEZA_AMF0_ECMA_ARRAY);
  if (name == NULL || name[0] == '\0')
    {
      /* An empty name would read back as the end of the object. */
      g_critical ("%s: an AMF0 property needs a name", G_STRFUNC);
      veza_amf0_value_free (child);
      return;
    }
  Property *p = g_new (Property, 1);
  p->name = g_strdup (name);
  p->value = child;
  g_ptr_array_add (object->u.children, p);
}

void
veza_amf0_value_append (VezaAmf0Value *array, VezaAmf0Value *child)
{
  g_return_if_fail (array->kind == VEZA_AMF0_STRICT_ARRAY);
  g_ptr_array_add (array->u.children, child);
}

void
veza_amf0_value_set_string (VezaAmf0Value *object, const char *name, const char *value)
{
  veza_amf0_value_set (object, name, veza_amf0_value_new_string (value));
}

void
veza_amf0_value_set_number (VezaAmf0Value *object, const char *name, double value)
{
  veza_amf0_value_set (object, name, veza_amf0_value_new_number (value));
}

void
veza_amf0_value_set_boolean (VezaAmf0Value *object, const char *name, gboolean value)
{
  veza_amf0_value_set (object, name, veza_amf0_value_new_boolean (value));
}

/* ---------------------------------------------------------------------- */
/* Decoder                                                                */
/* ---------------------------------------------------------------------- */

typedef struct {
  const guint8 *data;
  gsize size;
  gsize pos;
  guint depth;
  guint elements;
} Decoder;

static gboolean
need (Decoder *d, gsize n, GError **error)
{
  if (d->size - d->pos < n)
    {
      g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_TRUNCATED,
                   "AMF0 input truncated at offset %" G_GSIZE_FORMAT, d->pos);
      return FALSE;
    }
  return TRUE;
}

static guint16
read_u16 (Decoder *d)
{
  guint16 v = ((guint16) d->data[d->pos] << 8) | d->data[d->pos + 1];
  d->pos += 2;
  return v;
}

static guint32
read_u32 (Decoder *d)
{
  guint32 v = ((guint32) d->data[d->pos] << 24) | ((guint32) d->data[d->pos + 1] << 16) |
              ((guint32) d->data[d->pos + 2] << 8) | d->data[d->pos + 3];
  d->pos += 4;
  return v;
}

static double
read_double (Decoder *d)
{
  union { guint64 i; double f; } u;
  u.i = 0;
  for (int i = 0; i < 8; i++)
    u.i = (u.i << 8) | d->data[d->pos + i];
  d->pos += 8;
  return u.f;
}

static VezaAmf0Value *decode_value (Decoder *d, GError **error);

/* Properties of an object or ECMA array, up to and including the end marker.
 * @lenient_end: an ECMA array may end with the input instead of the marker
 * (some encoders leave it out). */
static gboolean
decode_properties (Decoder *d, VezaAmf0Value *container, gboolean lenient_end, GError **error)
{
  for (;;)
    {
      if (lenient_end && d->pos == d->size)
        return TRUE;
      if (!need (d, 2, error))
        return FALSE;
      guint16 name_len = read_u16 (d);
      if (name_len == 0)
        {
          if (!need (d, 1, error))
            return FALSE;
          if (d->data[d->pos] != VEZA_AMF0_OBJECT_END)
            {
              g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_INVALID,
                           "AMF0 property with empty name at offset %" G_GSIZE_FORMAT, d->pos);
              return FALSE;
            }
          d->pos++;
          return TRUE;
        }
      if (!need (d, name_len, error))
        return FALSE;
      /* A name must survive as a C string: one with a NUL cannot. */
      if (memchr (d->data + d->pos, '\0', name_len) != NULL)
        {
          g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_INVALID,
                       "AMF0 property name with a NUL at offset %" G_GSIZE_FORMAT, d->pos);
          return FALSE;
        }
      g_autofree char *name = g_strndup ((const char *) d->data + d->pos, name_len);
      d->pos += name_len;

      VezaAmf0Value *child = decode_value (d, error);
      if (child == NULL)
        return FALSE;
      veza_amf0_value_set (container, name, child);
    }
}

static VezaAmf0Value *
decode_value (Decoder *d, GError **error)
{
  g_autoptr (VezaAmf0Value) v = NULL;

  if (!need (d, 1, error))
    return NULL;
  if (++d->elements > VEZA_AMF0_MAX_ELEMENTS)
    {
      g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_LIMIT,
                   "AMF0 input has more than %u values", VEZA_AMF0_MAX_ELEMENTS);
      return NULL;
    }

  guint8 marker = d->data[d->pos++];
  switch (marker)
    {
    case VEZA_AMF0_NUMBER:
      if (!need (d, 8, error))
        return NULL;
      return veza_amf0_value_new_number (read_double (d));

    case VEZA_AMF0_BOOLEAN:
      if (!need (d, 1, error))
        return NULL;
      return veza_amf0_value_new_boolean (d->data[d->pos++] != 0);

    case VEZA_AMF0_STRING:
    case VEZA_AMF0_LONG_STRING:
      {
        gsize len;
        if (marker == VEZA_AMF0_STRING)
          {
            if (!need (d, 2, error))
              return NULL;
            len = read_u16 (d);
          }
        else
          {
            if (!need (d, 4, error))
              return NULL;
            len = read_u32 (d);
          }
        if (!need (d, len, error))
          return NULL;
        v = veza_amf0_value_new_string_len ((const char *) d->data + d->pos, len);
        v->kind = marker;
        d->pos += len;
        return g_steal_pointer (&v);
      }

    case VEZA_AMF0_NULL:
      return veza_amf0_value_new_null ();

    case VEZA_AMF0_UNDEFINED:
      return veza_amf0_value_new_undefined ();

    case VEZA_AMF0_DATE:
      {
        if (!need (d, 10, error))
          return NULL;
        double ms = read_double (d);
        gint16 tz = (gint16) read_u16 (d);
        return veza_amf0_value_new_date (ms, tz);
      }

    case VEZA_AMF0_OBJECT:
    case VEZA_AMF0_ECMA_ARRAY:
    case VEZA_AMF0_STRICT_ARRAY:
      {
        if (d->depth >= VEZA_AMF0_MAX_DEPTH)
          {
            g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_LIMIT,
                         "AMF0 nesting deeper than %u", VEZA_AMF0_MAX_DEPTH);
            return NULL;
          }
        d->depth++;
        gboolean ok;
        if (marker == VEZA_AMF0_OBJECT)
          {
            v = veza_amf0_value_new_object ();
            ok = decode_properties (d, v, FALSE, error);
          }
        else if (marker == VEZA_AMF0_ECMA_ARRAY)
          {
            /* The count is only a hint; the end marker ends the array. */
            ok = need (d, 4, error);
            if (ok)
              {
                read_u32 (d);
                v = veza_amf0_value_new_ecma_array ();
                ok = decode_properties (d, v, TRUE, error);
              }
          }
        else
          {
            ok = need (d, 4, error);
            if (ok)
              {
                guint32 count = read_u32 (d);
                /* Each element takes at least one byte: refuse counts the
                 * input cannot hold before looping. */
                if (count > d->size - d->pos ||
                    count > VEZA_AMF0_MAX_ELEMENTS - MIN (d->elements, VEZA_AMF0_MAX_ELEMENTS))
                  {
                    g_set_error (error, VEZA_AMF0_ERROR,
                                 count > d->size - d->pos ? VEZA_AMF0_ERROR_TRUNCATED
                                                          : VEZA_AMF0_ERROR_LIMIT,
                                 "AMF0 strict array of %u elements does not fit", count);
                    ok = FALSE;
                  }
                else
                  {
                    v = veza_amf0_value_new_strict_array ();
                    for (guint32 i = 0; ok && i < count; i++)
                      {
                        VezaAmf0Value *child = decode_value (d, error);
                        if (child == NULL)
                          ok = FALSE;
                        else
                          veza_amf0_value_append (v, child);
                      }
                  }
              }
          }
        d->depth--;
        return ok ? g_steal_pointer (&v) : NULL;
      }

    case VEZA_AMF0_OBJECT_END:
      g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_INVALID,
                   "AMF0 object end outside an object at offset %" G_GSIZE_FORMAT, d->pos - 1);
      return NULL;

    default:
      g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_INVALID,
                   "unsupported AMF0 type 0x%02x at offset %" G_GSIZE_FORMAT, marker, d->pos - 1);
      return NULL;
    }
}

static gboolean
check_input (const guint8 *data, gsize size, GError **error)
{
  if (size > VEZA_AMF0_MAX_INPUT)
    {
      g_set_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_LIMIT,
                   "AMF0 input of %" G_GSIZE_FORMAT " bytes is too large", size);
      return FALSE;
    }
  if (data == NULL && size > 0)
    {
      g_set_error_literal (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_INVALID, "no AMF0 input");
      return FALSE;
    }
  return TRUE;
}

VezaAmf0Value *
veza_amf0_decode (const guint8 *data, gsize size, gsize *consumed, GError **error)
{
  Decoder d = { data, size, 0, 0, 0 };

  if (!check_input (data, size, error))
    return NULL;
  VezaAmf0Value *v = decode_value (&d, error);
  if (v && consumed)
    *consumed = d.pos;
  return v;
}

GPtrArray *
veza_amf0_decode_all (const guint8 *data, gsize size, GError **error)
{
  Decoder d = { data, size, 0, 0, 0 };
  g_autoptr (GPtrArray) values = NULL;

  if (!check_input (data, size, error))
    return NULL;
  values = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_amf0_value_free);
  while (d.pos < d.size)
    {
      VezaAmf0Value *v = decode_value (&d, error);
      if (v == NULL)
        return NULL;
      g_ptr_array_add (values, v);
    }
  return g_steal_pointer (&values);
}

/* ---------------------------------------------------------------------- */
/* Encoder                                                                */
/* ---------------------------------------------------------------------- */

static void
put_u8 (GByteArray *out, guint8 v)
{
  g_byte_array_append (out, &v, 1);
}

static void
put_u16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };
  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };
  g_byte_array_append (out, b, 4);
}

static void
put_double (GByteArray *out, double f)
{
  union { guint64 i; double f; } u;
  guint8 b[8];
  u.f = f;
  for (int i = 7; i >= 0; i--)
    {
      b[i] = u.i & 0xff;
      u.i >>= 8;
    }
  g_byte_array_append (out, b, 8);
}

static void
put_key (GByteArray *out, const char *name)
{
  gsize len = MIN (strlen (name), G_MAXUINT16);
  put_u16 (out, len);
  g_byte_array_append (out, (const guint8 *) name, len);
}

void
veza_amf0_encode (GByteArray *out, const VezaAmf0Value *value)
{
  g_return_if_fail (out != NULL && value != NULL);

  switch (value->kind)
    {
    case VEZA_AMF0_NUMBER:
      put_u8 (out, VEZA_AMF0_NUMBER);
      put_double (out, value->u.number);
      break;
    case VEZA_AMF0_BOOLEAN:
      put_u8 (out, VEZA_AMF0_BOOLEAN);
      put_u8 (out, value->u.boolean ? 1 : 0);
      break;
    case VEZA_AMF0_STRING:
    case VEZA_AMF0_LONG_STRING:
      if (value->u.string.len > G_MAXUINT16)
        {
          put_u8 (out, VEZA_AMF0_LONG_STRING);
          put_u32 (out, (guint32) MIN (value->u.string.len, G_MAXUINT32));
        }
      else
        {
          put_u8 (out, VEZA_AMF0_STRING);
          put_u16 (out, value->u.string.len);
        }
      g_byte_array_append (out, (const guint8 *) value->u.string.data,
                           MIN (value->u.string.len, G_MAXUINT32));
      break;
    case VEZA_AMF0_NULL:
    case VEZA_AMF0_UNDEFINED:
      put_u8 (out, value->kind);
      break;
    case VEZA_AMF0_DATE:
      put_u8 (out, VEZA_AMF0_DATE);
      put_double (out, value->u.date.ms);
      put_u16 (out, (guint16) value->u.date.tz);
      break;
    case VEZA_AMF0_OBJECT:
    case VEZA_AMF0_ECMA_ARRAY:
      put_u8 (out, value->kind);
      if (value->kind == VEZA_AMF0_ECMA_ARRAY)
        put_u32 (out, value->u.children->len);
      for (guint i = 0; i < value->u.children->len; i++)
        {
          const Property *p = g_ptr_array_index (value->u.children, i);
          put_key (out, p->name);
          veza_amf0_encode (out, p->value);
        }
      put_u16 (out, 0);
      put_u8 (out, VEZA_AMF0_OBJECT_END);
      break;
    case VEZA_AMF0_STRICT_ARRAY:
      put_u8 (out, VEZA_AMF0_STRICT_ARRAY);
      put_u32 (out, value->u.children->len);
      for (guint i = 0; i < value->u.children->len; i++)
        veza_amf0_encode (out, g_ptr_array_index (value->u.children, i));
      break;
    case VEZA_AMF0_OBJECT_END:
    default:
      g_return_if_reached ();
    }
}
