/* amf0-test.c — AMF0 codec: round trips, every type, bounds, malformed input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "veza-amf0.h"

static gboolean
values_equal (const VezaAmf0Value *a, const VezaAmf0Value *b)
{
  if (veza_amf0_value_kind (a) != veza_amf0_value_kind (b))
    return FALSE;
  switch (veza_amf0_value_kind (a))
    {
    case VEZA_AMF0_NUMBER:
      return veza_amf0_value_get_number (a) == veza_amf0_value_get_number (b);
    case VEZA_AMF0_BOOLEAN:
      return veza_amf0_value_get_boolean (a) == veza_amf0_value_get_boolean (b);
    case VEZA_AMF0_DATE:
      return veza_amf0_value_get_number (a) == veza_amf0_value_get_number (b) &&
             veza_amf0_value_get_date_tz (a) == veza_amf0_value_get_date_tz (b);
    case VEZA_AMF0_STRING:
    case VEZA_AMF0_LONG_STRING:
      {
        gsize la, lb;
        const char *sa = veza_amf0_value_get_string (a, &la);
        const char *sb = veza_amf0_value_get_string (b, &lb);
        return la == lb && memcmp (sa, sb, la) == 0;
      }
    case VEZA_AMF0_OBJECT:
    case VEZA_AMF0_ECMA_ARRAY:
    case VEZA_AMF0_STRICT_ARRAY:
      if (veza_amf0_value_get_n_children (a) != veza_amf0_value_get_n_children (b))
        return FALSE;
      for (guint i = 0; i < veza_amf0_value_get_n_children (a); i++)
        {
          const char *na, *nb;
          const VezaAmf0Value *ca = veza_amf0_value_get_child (a, i, &na);
          const VezaAmf0Value *cb = veza_amf0_value_get_child (b, i, &nb);
          if (g_strcmp0 (na, nb) != 0 || !values_equal (ca, cb))
            return FALSE;
        }
      return TRUE;
    default:
      return TRUE;
    }
}

/* Encodes, decodes, compares, and checks that re-encoding gives the same bytes. */
static void
assert_round_trip (const VezaAmf0Value *v)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GByteArray) again = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaAmf0Value) decoded = NULL;
  gsize consumed = 0;

  veza_amf0_encode (bytes, v);
  decoded = veza_amf0_decode (bytes->data, bytes->len, &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded);
  g_assert_cmpuint (consumed, ==, bytes->len);
  g_assert_true (values_equal (v, decoded));
  veza_amf0_encode (again, decoded);
  g_assert_cmpmem (bytes->data, bytes->len, again->data, again->len);

  g_autoptr (VezaAmf0Value) copy = veza_amf0_value_copy (v);
  g_assert_true (values_equal (v, copy));
}

static void
test_scalars (void)
{
  const double numbers[] = { 0, 1, -1.5, 3.14159, 1e300, -0.0, 4294967296.0 };

  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    {
      g_autoptr (VezaAmf0Value) v = veza_amf0_value_new_number (numbers[i]);
      assert_round_trip (v);
    }
  for (int b = 0; b < 2; b++)
    {
      g_autoptr (VezaAmf0Value) v = veza_amf0_value_new_boolean (b);
      assert_round_trip (v);
    }
  g_autoptr (VezaAmf0Value) null = veza_amf0_value_new_null ();
  g_autoptr (VezaAmf0Value) undef = veza_amf0_value_new_undefined ();
  g_autoptr (VezaAmf0Value) date = veza_amf0_value_new_date (1700000000000.0, -120);
  g_autoptr (VezaAmf0Value) str = veza_amf0_value_new_string ("héllo");
  g_autoptr (VezaAmf0Value) empty = veza_amf0_value_new_string ("");
  g_autoptr (VezaAmf0Value) nul = veza_amf0_value_new_string_len ("a\0b", 3);
  assert_round_trip (null);
  assert_round_trip (undef);
  assert_round_trip (date);
  assert_round_trip (str);
  assert_round_trip (empty);
  assert_round_trip (nul);
  g_assert_cmpint (veza_amf0_value_get_date_tz (date), ==, -120);
}

static void
test_known_bytes (void)
{
  /* number 1.0, boolean true, string "ab", null, undefined */
  static const guint8 data[] = { 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0x02, 0x00,
                                 0x02, 'a', 'b', 0x05, 0x06 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) values = veza_amf0_decode_all (data, sizeof data, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (values->len, ==, 5);
  g_assert_cmpfloat (veza_amf0_value_get_number (values->pdata[0]), ==, 1.0);
  g_assert_true (veza_amf0_value_get_boolean (values->pdata[1]));
  g_assert_cmpstr (veza_amf0_value_get_string (values->pdata[2], NULL), ==, "ab");
  g_assert_cmpint (veza_amf0_value_kind (values->pdata[3]), ==, VEZA_AMF0_NULL);
  g_assert_cmpint (veza_amf0_value_kind (values->pdata[4]), ==, VEZA_AMF0_UNDEFINED);

  g_autoptr (GByteArray) out = g_byte_array_new ();
  for (guint i = 0; i < values->len; i++)
    veza_amf0_encode (out, values->pdata[i]);
  g_assert_cmpmem (out->data, out->len, data, sizeof data);
}

static void
test_long_string (void)
{
  g_autofree char *big = g_malloc (70000);
  memset (big, 'x', 70000);
  g_autoptr (VezaAmf0Value) v = veza_amf0_value_new_string_len (big, 70000);
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_assert_cmpint (veza_amf0_value_kind (v), ==, VEZA_AMF0_LONG_STRING);
  veza_amf0_encode (out, v);
  g_assert_cmpuint (out->data[0], ==, VEZA_AMF0_LONG_STRING);
  g_assert_cmpuint (out->len, ==, 5 + 70000);
  assert_round_trip (v);

  /* A short long string survives as a long string. */
  static const guint8 ls[] = { 0x0c, 0, 0, 0, 2, 'h', 'i' };
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaAmf0Value) d = veza_amf0_decode (ls, sizeof ls, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (veza_amf0_value_kind (d), ==, VEZA_AMF0_LONG_STRING);
  g_assert_cmpstr (veza_amf0_value_get_string (d, NULL), ==, "hi");
}

static VezaAmf0Value *
make_tree (void)
{
  VezaAmf0Value *obj = veza_amf0_value_new_object ();
  VezaAmf0Value *ecma = veza_amf0_value_new_ecma_array ();
  VezaAmf0Value *arr = veza_amf0_value_new_strict_array ();

  veza_amf0_value_set_string (obj, "app", "live");
  veza_amf0_value_set_number (obj, "capabilities", 31);
  veza_amf0_value_set_boolean (obj, "fpad", FALSE);
  veza_amf0_value_set (obj, "nothing", veza_amf0_value_new_null ());
  veza_amf0_value_set_number (ecma, "width", 320);
  veza_amf0_value_set_string (ecma, "encoder", "Lavf");
  veza_amf0_value_set (ecma, "created", veza_amf0_value_new_date (0, 60));
  veza_amf0_value_append (arr, veza_amf0_value_new_number (1));
  veza_amf0_value_append (arr, veza_amf0_value_new_string ("two"));
  veza_amf0_value_append (arr, veza_amf0_value_new_undefined ());
  veza_amf0_value_set (ecma, "list", arr);
  veza_amf0_value_set (obj, "meta", ecma);
  veza_amf0_value_set (obj, "empty", veza_amf0_value_new_object ());
  return obj;
}

static void
test_containers (void)
{
  g_autoptr (VezaAmf0Value) tree = make_tree ();

  assert_round_trip (tree);
  g_assert_cmpstr (veza_amf0_value_lookup_string (tree, "app"), ==, "live");
  g_assert_null (veza_amf0_value_lookup_string (tree, "capabilities"));
  g_assert_null (veza_amf0_value_lookup (tree, "missing"));
  const VezaAmf0Value *meta = veza_amf0_value_lookup (tree, "meta");
  g_assert_nonnull (meta);
  g_assert_cmpint (veza_amf0_value_kind (meta), ==, VEZA_AMF0_ECMA_ARRAY);
  g_assert_cmpfloat (veza_amf0_value_get_number (veza_amf0_value_lookup (meta, "width")), ==,
                     320);
  const VezaAmf0Value *list = veza_amf0_value_lookup (meta, "list");
  g_assert_cmpuint (veza_amf0_value_get_n_children (list), ==, 3);
  g_assert_cmpstr (veza_amf0_value_get_string (veza_amf0_value_get_child (list, 1, NULL), NULL),
                   ==, "two");
  g_assert_null (veza_amf0_value_get_child (list, 3, NULL));
}

static void
test_ecma_without_end (void)
{
  /* ECMA array of 1 property, input ends without the end marker. */
  static const guint8 data[] = { 0x08, 0, 0, 0, 1, 0, 1, 'a', 0x05 };
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaAmf0Value) v = veza_amf0_decode (data, sizeof data, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (veza_amf0_value_get_n_children (v), ==, 1);
}

static void
test_depth (void)
{
  g_autoptr (GByteArray) ok = g_byte_array_new ();
  g_autoptr (GByteArray) deep = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  /* VEZA_AMF0_MAX_DEPTH nested strict arrays of one element, then a null. */
  for (int i = 0; i < VEZA_AMF0_MAX_DEPTH; i++)
    g_byte_array_append (ok, (const guint8 *) "\x0a\x00\x00\x00\x01", 5);
  g_byte_array_append (ok, (const guint8 *) "\x05", 1);
  g_autoptr (VezaAmf0Value) v = veza_amf0_decode (ok->data, ok->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);

  for (int i = 0; i < VEZA_AMF0_MAX_DEPTH + 1; i++)
    g_byte_array_append (deep, (const guint8 *) "\x03\x00\x01k", 4);
  g_byte_array_append (deep, (const guint8 *) "\x05", 1);
  g_assert_null (veza_amf0_decode (deep->data, deep->len, NULL, &error));
  g_assert_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_LIMIT);
}

static void
test_element_count (void)
{
  g_autoptr (GError) error = NULL;

  /* A strict array claiming 4 billion elements in 5 bytes. */
  static const guint8 huge[] = { 0x0a, 0xff, 0xff, 0xff, 0xff };
  g_assert_null (veza_amf0_decode (huge, sizeof huge, NULL, &error));
  g_assert_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_TRUNCATED);
  g_clear_error (&error);

  /* More values than allowed in one input. */
  gsize n = VEZA_AMF0_MAX_ELEMENTS + 1;
  g_autofree guint8 *nulls = g_malloc (n);
  memset (nulls, VEZA_AMF0_NULL, n);
  g_assert_null (veza_amf0_decode_all (nulls, n, &error));
  g_assert_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_LIMIT);
  g_clear_error (&error);

  g_autoptr (GPtrArray) all = veza_amf0_decode_all (nulls, n - 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, n - 1);
}

static void
test_input_size (void)
{
  gsize n = VEZA_AMF0_MAX_INPUT + 1;
  g_autofree guint8 *big = g_malloc0 (n);
  g_autoptr (GError) error = NULL;

  g_assert_null (veza_amf0_decode_all (big, n, &error));
  g_assert_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_LIMIT);
}

static void
test_truncated (void)
{
  g_autoptr (VezaAmf0Value) tree = make_tree ();
  g_autoptr (GByteArray) bytes = g_byte_array_new ();

  veza_amf0_encode (bytes, tree);
  /* Every strict prefix is an error, read from an exact-size copy so that
   * any over-read shows under a sanitizer. */
  for (gsize len = 0; len < bytes->len; len++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (bytes->data, len);
      g_assert_null (veza_amf0_decode (copy, len, NULL, &error));
      g_assert_error (error, VEZA_AMF0_ERROR, VEZA_AMF0_ERROR_TRUNCATED);
    }
}

static void
test_malformed (void)
{
  static const struct {
    const char *data;
    gsize len;
    int code;
  } cases[] = {
    { "\x11", 1, VEZA_AMF0_ERROR_INVALID },              /* AMF3 switch: unsupported */
    { "\x04", 1, VEZA_AMF0_ERROR_INVALID },              /* movieclip */
    { "\x07\x00\x01", 3, VEZA_AMF0_ERROR_INVALID },      /* reference */
    { "\x09", 1, VEZA_AMF0_ERROR_INVALID },              /* object end alone */
    { "\x03\x00\x00\x05", 4, VEZA_AMF0_ERROR_INVALID },  /* empty key, not the end */
    { "\x03\x00\x01\x00\x05\x00\x00\x09", 8, VEZA_AMF0_ERROR_INVALID }, /* NUL in a key */
    { "\x02\xff\xff" "abc", 6, VEZA_AMF0_ERROR_TRUNCATED },
    { "\x0c\xff\xff\xff\xff" "abc", 8, VEZA_AMF0_ERROR_TRUNCATED },
    { "\x03\x00\x05" "ab", 5, VEZA_AMF0_ERROR_TRUNCATED },
    { "\x0b\x00\x00", 3, VEZA_AMF0_ERROR_TRUNCATED },
    { "", 0, VEZA_AMF0_ERROR_TRUNCATED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (cases[i].data, cases[i].len);
      g_assert_null (veza_amf0_decode (copy, cases[i].len, NULL, &error));
      g_assert_error (error, VEZA_AMF0_ERROR, cases[i].code);
    }
}

static void
test_random (void)
{
  /* Random bytes and random mutations of a valid encoding: always a value
   * or an error, never a crash. */
  g_autoptr (VezaAmf0Value) tree = make_tree ();
  g_autoptr (GByteArray) valid = g_byte_array_new ();
  veza_amf0_encode (valid, tree);

  for (int i = 0; i < 20000; i++)
    {
      gsize len = g_test_rand_int_range (0, 256);
      g_autofree guint8 *buf = NULL;
      if (i % 2 == 0)
        {
          buf = g_malloc (MAX (len, 1));
          for (gsize j = 0; j < len; j++)
            buf[j] = g_test_rand_int_range (0, 14);
        }
      else
        {
          len = valid->len;
          buf = g_memdup2 (valid->data, len);
          for (int k = 0; k < 3; k++)
            buf[g_test_rand_int_range (0, len)] = g_test_rand_int_range (0, 256);
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) values = veza_amf0_decode_all (buf, len, &error);
      g_assert_true ((values == NULL) == (error != NULL));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/veza/amf0/round-trip/scalars", test_scalars);
  g_test_add_func ("/veza/amf0/round-trip/containers", test_containers);
  g_test_add_func ("/veza/amf0/round-trip/long-string", test_long_string);
  g_test_add_func ("/veza/amf0/decode/known-bytes", test_known_bytes);
  g_test_add_func ("/veza/amf0/decode/ecma-without-end", test_ecma_without_end);
  g_test_add_func ("/veza/amf0/bounds/depth", test_depth);
  g_test_add_func ("/veza/amf0/bounds/element-count", test_element_count);
  g_test_add_func ("/veza/amf0/bounds/input-size", test_input_size);
  g_test_add_func ("/veza/amf0/malformed/truncated", test_truncated);
  g_test_add_func ("/veza/amf0/malformed/invalid", test_malformed);
  g_test_add_func ("/veza/amf0/malformed/random", test_random);

  return g_test_run ();
}
