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
    unsigned int r = key & 0xFFFF;
    for (Py_ssize_t i = 0; i < cipher.len; i++) {
        p[i] = c[i] ^ (unsigned char)(r >> 8);
        r = ((c[i] + r) * 52845u + 22719u) & 0xFFFFu;
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
