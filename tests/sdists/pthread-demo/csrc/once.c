/* Other emulated pthread calls, from a second extension: pthread_once,
 * thread-specific data, pthread_self/pthread_equal, a read-write lock, and
 * pthread_create, which fails (WASI preview 1 has one thread). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int initialised;
static void init_once(void) { initialised++; }

static void *body(void *arg) { return arg; }

static PyObject *exercise(PyObject *self, PyObject *unused) {
    int once1 = pthread_once(&once, init_once);
    int once2 = pthread_once(&once, init_once);
    pthread_key_t key;
    static int value = 7;
    int key_create = pthread_key_create(&key, NULL);
    int set = pthread_setspecific(key, &value);
    int *got = pthread_getspecific(key);
    int key_delete = pthread_key_delete(key);
    int same = pthread_equal(pthread_self(), pthread_self()) != 0;
    pthread_rwlock_t rw;
    int rw_init = pthread_rwlock_init(&rw, NULL);
    int rdlock = pthread_rwlock_rdlock(&rw);
    int rw_unlock = pthread_rwlock_unlock(&rw);
    int wrlock = pthread_rwlock_wrlock(&rw);
    int rw_unlock2 = pthread_rwlock_unlock(&rw);
    int rw_destroy = pthread_rwlock_destroy(&rw);
    pthread_t t;
    int create = pthread_create(&t, NULL, body, NULL);
    if (create == 0) {
        pthread_join(t, NULL); /* natively; in WASI preview 1 there is no second thread */
    }
    return Py_BuildValue(
        "{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:O}",
        "once", once1, "once_again", once2, "initialised", initialised, "key_create", key_create,
        "setspecific", set, "getspecific", got ? *got : -1, "key_delete", key_delete, "self_equal", same,
        "rwlock_init", rw_init, "rdlock", rdlock, "rwlock_unlock", rw_unlock | rw_unlock2, "wrlock", wrlock,
        "rwlock_destroy", rw_destroy, "create", create, "create_failed", create != 0 ? Py_True : Py_False);
}

static PyMethodDef methods[] = {
    {"exercise", exercise, METH_NOARGS, "Run the emulated calls; return each one's result."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_once", NULL, 0, methods};

PyMODINIT_FUNC PyInit__once(void) { return PyModuleDef_Init(&module); }
