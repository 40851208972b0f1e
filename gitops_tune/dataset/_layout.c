/* Tier 0 of the JSONL scan in one pass: the compiled form of `gitops_tune/dataset/layout.py`.
 *
 * pairs(block, prefix, middle, start, canonical, input_limit, output_limit, good_first)
 *
 * Every line of `block` (which ends in a newline) must read, byte for byte,
 *
 *     prefix A middle B "}\n
 *
 * with A and B free of quotes, backslashes and control bytes (so `encode_basestring` leaves
 * them as they are and the line is one JSON object with exactly the two fields), their first
 * byte marked in `good_first` (256 flags: not empty, not blank) and at most `input_limit` and
 * `output_limit` characters (counted as UTF-8 lead bytes).
 * Then the answer is (the fingerprint lines `start A canonical B "}`, joined by newlines, their
 * count, and whether every A and B is ASCII: if not, the caller checks that they are UTF-8);
 * any other block gives None and goes to the next tier. Like every tier it never decides that
 * a row is wrong. The scan touches no Python object, so it runs without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    const char *s;
    Py_ssize_t n;
} Span;

/* The end of a field starting at p (its closing quote), or NULL if it is not one A may be.
 * The quote is found by memchr, then the bytes before it are checked in a loop without
 * branches, which the compiler vectorizes. */
static const char *
field(const char *p, const char *end, Py_ssize_t limit, const unsigned char *good_first,
      unsigned char *high)
{
    const char *q;
    Py_ssize_t n, i, continuations = 0;
    unsigned bad = 0;
    if (p >= end || !good_first[(unsigned char)*p])
        return NULL;
    if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
        return NULL;
    n = q - p;
    for (i = 0; i < n;) { /* byte-wide counters (a run of at most 255) vectorize best */
        Py_ssize_t run = n - i < 255 ? n - i : 255;
        unsigned char run_bad = 0, run_continuations = 0, run_high = 0;
        for (; run > 0; run--, i++) {
            unsigned char c = (unsigned char)p[i];
            run_bad |= (c < 0x20) | (c == '\\');
            run_continuations += (unsigned char)((c & 0xC0) == 0x80); /* starts no character */
            run_high |= c;
        }
        bad |= run_bad;
        *high |= run_high & 0x80;
        continuations += run_continuations;
    }
    return !bad && n - continuations <= limit ? q : NULL;
}

static int
starts(const char *p, const char *end, Span want)
{
    return end - p >= want.n && memcmp(p, want.s, (size_t)want.n) == 0;
}

static char *
put(char *w, const char *s, Py_ssize_t n)
{
    memcpy(w, s, (size_t)n);
    return w + n;
}

/* Writes the fingerprint lines of [p, end) at w and returns their end; NULL where a line is
 * not laid out right. A line writes its own length plus the growth: never more. */
static char *
rewrite(const char *p, const char *end, char *w, const Span *pat, Py_ssize_t in_limit,
        Py_ssize_t out_limit, const unsigned char *good_first, unsigned char *high)
{
    const Span prefix = pat[0], middle = pat[1], start = pat[2], canonical = pat[3];
    while (p < end) {
        const char *q;
        if (!starts(p, end, prefix))
            return NULL;
        p += prefix.n;
        if ((q = field(p, end, in_limit, good_first, high)) == NULL || !starts(q, end, middle))
            return NULL;
        w = put(put(put(w, start.s, start.n), p, q - p), canonical.s, canonical.n);
        p = q + middle.n;
        if ((q = field(p, end, out_limit, good_first, high)) == NULL || end - q < 3 || q[1] != '}'
            || q[2] != '\n')
            return NULL;
        w = put(w, p, q + 2 - p);
        if (q + 3 < end)
            *w++ = '\n';
        p = q + 3;
    }
    return w;
}

static PyObject *
pairs(PyObject *module, PyObject *args)
{
    Span block, pat[4], table;
    Py_ssize_t in_limit, out_limit, rows = 0, growth, size;
    PyObject *out;
    char *w;
    unsigned char high = 0;
    (void)module;
    if (!PyArg_ParseTuple(args, "y#y#y#y#y#nny#", &block.s, &block.n, &pat[0].s, &pat[0].n,
                          &pat[1].s, &pat[1].n, &pat[2].s, &pat[2].n, &pat[3].s, &pat[3].n,
                          &in_limit, &out_limit, &table.s, &table.n))
        return NULL;
    if (table.n != 256) {
        PyErr_SetString(PyExc_ValueError, "good_first must hold 256 flags");
        return NULL;
    }
    if (block.n == 0 || block.s[block.n - 1] != '\n')
        Py_RETURN_NONE;
    for (const char *p = block.s, *end = block.s + block.n;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        rows++;
    /* every line that is laid out right grows by `growth` bytes (the last loses its newline);
     * room for that much on every line, whatever the lines turn out to be */
    growth = pat[2].n - pat[0].n + pat[3].n - pat[1].n;
    size = block.n + rows * (growth > 0 ? growth : 0);
    if ((out = PyBytes_FromStringAndSize(NULL, size)) == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    w = rewrite(block.s, block.s + block.n, PyBytes_AS_STRING(out), pat, in_limit, out_limit,
                (const unsigned char *)table.s, &high);
    Py_END_ALLOW_THREADS
    if (w == NULL) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&out, w - PyBytes_AS_STRING(out)) < 0)
        return NULL;
    return Py_BuildValue("NnO", out, rows, high ? Py_False : Py_True);
}

static PyMethodDef methods[] = {
    {"pairs", pairs, METH_VARARGS,
     "pairs(block, prefix, middle, start, canonical, input_limit, output_limit, good_first)"
     " -> (fingerprint lines, count, ascii) or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gitops_tune.dataset._layout",
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__layout(void)
{
    return PyModule_Create(&module);
}
