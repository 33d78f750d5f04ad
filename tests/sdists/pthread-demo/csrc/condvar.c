/* A condition variable and a mutex used from one thread: create, lock,
 * signal, broadcast, wait (with its predicate, once without, and with a
 * deadline), unlock, destroy. Every call's result goes back to Python. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

static PyObject *exercise(PyObject *self, PyObject *unused) {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int ready = 0, waited = 0;
    int mutex_init = pthread_mutex_init(&mutex, NULL);
    int cond_init = pthread_cond_init(&cond, NULL);
    int lock = pthread_mutex_lock(&mutex);
    ready = 1; /* the signalling side's change, made under the lock */
    int signal = pthread_cond_signal(&cond);
    int broadcast = pthread_cond_broadcast(&cond);
    int wait = 0;
    while (!ready) { /* the waiting side: its predicate holds, so no wait */
        wait = pthread_cond_wait(&cond, &mutex);
        waited++;
    }
    int wait_once = 0;
#ifdef __wasi__
    /* A wait nobody can end in one thread: POSIX allows it to return (a
     * spurious wakeup), and in WASI preview 1 it does (elsewhere it would block). */
    wait_once = pthread_cond_wait(&cond, &mutex);
#endif
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000;
    }
    int timedwait = pthread_cond_timedwait(&cond, &mutex, &deadline);
    int unlock = pthread_mutex_unlock(&mutex);
    int trylock = pthread_mutex_trylock(&mutex);
    int unlock_again = pthread_mutex_unlock(&mutex);
    int cond_destroy = pthread_cond_destroy(&cond);
    int mutex_destroy = pthread_mutex_destroy(&mutex);
    return Py_BuildValue(
        "{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
        "mutex_init", mutex_init, "cond_init", cond_init, "lock", lock, "signal", signal,
        "broadcast", broadcast, "waited", waited, "wait", wait, "wait_once", wait_once,
        "timedwait", timedwait, "unlock", unlock, "trylock", trylock, "unlock_again", unlock_again,
        "cond_destroy", cond_destroy, "mutex_destroy", mutex_destroy);
}

/* A statically initialised condition variable, broadcast with nobody waiting. */
static pthread_cond_t shared_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t shared_mutex = PTHREAD_MUTEX_INITIALIZER;
static long generation;

static PyObject *bump(PyObject *self, PyObject *unused) {
    int r = pthread_mutex_lock(&shared_mutex);
    generation++;
    r |= pthread_cond_broadcast(&shared_cond);
    r |= pthread_mutex_unlock(&shared_mutex);
    if (r != 0) {
        errno = r;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromLong(generation);
}

static PyMethodDef methods[] = {
    {"exercise", exercise, METH_NOARGS, "Run the condition-variable sequence; return each call's result."},
    {"bump", bump, METH_NOARGS, "Increment a counter under a mutex and broadcast; return the counter."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_condvar", NULL, 0, methods};

PyMODINIT_FUNC PyInit__condvar(void) { return PyModuleDef_Init(&module); }
