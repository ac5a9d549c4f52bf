/* eexec encryption and decryption (Type 1 font format, section 7.1): byte loops, fast in C.
 *
 * Python fallbacks: certdocs.pdf._eexec_encrypt_python and the vectorised _eexec_decrypt_numpy.
 * Both give the same bytes; the tests check it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *encrypt(PyObject *self, PyObject *args) {
    Py_buffer plain;
    unsigned int key = 55665;
    if (!PyArg_ParseTuple(args, "y*|I", &plain, &key)) {
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, plain.len);
    if (out == NULL) {
        PyBuffer_Release(&plain);
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)plain.buf;
    unsigned char *c = (unsigned char *)PyBytes_AS_STRING(out);
    unsigned int r = key & 0xFFFF;
    for (Py_ssize_t i = 0; i < plain.len; i++) {
        unsigned char cipher = p[i] ^ (unsigned char)(r >> 8);
        c[i] = cipher;
        r = ((cipher + r) * 52845u + 22719u) & 0xFFFFu;
    }
    PyBuffer_Release(&plain);
    return out;
}

static PyObject *decrypt(PyObject *self, PyObject *args) {
    Py_buffer cipher;
    unsigned int key = 55665;
    if (!PyArg_ParseTuple(args, "y*|I", &cipher, &key)) {
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, cipher.len);
    if (out == NULL) {
        PyBuffer_Release(&cipher);
        return NULL;
    }
    const unsigned char *c = (const unsigned char *)cipher.buf;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(out);
    /* The key after byte i is r' = (c[i] + r) * C1 + C2: given the ciphertext it is affine in r,
     * so the keys of four bytes ahead are r * C1^k plus terms of the ciphertext alone, and the
     * loop waits on one multiplication per four bytes instead of one per byte (all mod 2^16). */
    const unsigned int c1 = 52845u, c2 = 22719u;
    const unsigned int c1_2 = (c1 * c1) & 0xFFFFu, c1_3 = (c1_2 * c1) & 0xFFFFu, c1_4 = (c1_3 * c1) & 0xFFFFu;
    unsigned int r = key & 0xFFFF;
    Py_ssize_t i = 0;
    for (; i + 4 <= cipher.len; i += 4) {
        unsigned int k1 = c[i] * c1 + c2;
        unsigned int k2 = k1 * c1 + c[i + 1] * c1 + c2;
        unsigned int k3 = k2 * c1 + c[i + 2] * c1 + c2;
        unsigned int k4 = k3 * c1 + c[i + 3] * c1 + c2;
        unsigned int r1 = (r * c1 + k1) & 0xFFFFu;
        unsigned int r2 = (r * c1_2 + k2) & 0xFFFFu;
        unsigned int r3 = (r * c1_3 + k3) & 0xFFFFu;
        p[i] = c[i] ^ (unsigned char)(r >> 8);
        p[i + 1] = c[i + 1] ^ (unsigned char)(r1 >> 8);
        p[i + 2] = c[i + 2] ^ (unsigned char)(r2 >> 8);
        p[i + 3] = c[i + 3] ^ (unsigned char)(r3 >> 8);
        r = (r * c1_4 + k4) & 0xFFFFu;
    }
    for (; i < cipher.len; i++) {
        p[i] = c[i] ^ (unsigned char)(r >> 8);
        r = ((c[i] + r) * c1 + c2) & 0xFFFFu;
    }
    PyBuffer_Release(&cipher);
    return out;
}

static PyMethodDef methods[] = {
    {"encrypt", encrypt, METH_VARARGS, "eexec-encrypt bytes with the given key (default 55665)."},
    {"decrypt", decrypt, METH_VARARGS, "eexec-decrypt bytes with the given key (default 55665)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_eexec", NULL, -1, methods};

PyMODINIT_FUNC PyInit__eexec(void) { return PyModule_Create(&module); }
