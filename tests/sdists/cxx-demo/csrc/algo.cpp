// cxxdemo._algo: word statistics with the C++ standard library (no exceptions).
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::vector<std::string> split_words(const std::string &text) {
    std::vector<std::string> words;
    std::string cur;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            cur.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else if (!cur.empty()) {
            words.push_back(cur);
            cur.clear();
        }
    }
    if (!cur.empty()) words.push_back(cur);
    return words;
}

template <typename T>
double median(std::vector<T> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? double(v[n / 2]) : (double(v[n / 2 - 1]) + double(v[n / 2])) / 2.0;
}

}  // namespace

// top_words(text, k) -> list[(word, count)]: the k most frequent words, ties by word.
static PyObject *top_words(PyObject *, PyObject *args) {
    const char *text;
    Py_ssize_t len, k;
    if (!PyArg_ParseTuple(args, "s#n", &text, &len, &k)) return nullptr;
    std::unordered_map<std::string, long> counts;
    for (auto &w : split_words(std::string(text, len))) ++counts[w];
    std::vector<std::pair<std::string, long>> items(counts.begin(), counts.end());
    std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (k < 0) k = 0;
    if (static_cast<size_t>(k) < items.size()) items.resize(k);
    PyObject *out = PyList_New(static_cast<Py_ssize_t>(items.size()));
    if (!out) return nullptr;
    for (size_t i = 0; i < items.size(); i++) {
        PyObject *t = Py_BuildValue("(s#l)", items[i].first.data(), static_cast<Py_ssize_t>(items[i].first.size()), items[i].second);
        if (!t) { Py_DECREF(out); return nullptr; }
        PyList_SET_ITEM(out, static_cast<Py_ssize_t>(i), t);
    }
    return out;
}

// word_length_median(text) -> float
static PyObject *word_length_median(PyObject *, PyObject *arg) {
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &len);
    if (!text) return nullptr;
    std::vector<size_t> lengths;
    for (auto &w : split_words(std::string(text, len))) lengths.push_back(w.size());
    return PyFloat_FromDouble(median(lengths));
}

static PyMethodDef methods[] = {
    {"top_words", top_words, METH_VARARGS, "top_words(text, k) -> list of (word, count)"},
    {"word_length_median", word_length_median, METH_O, "word_length_median(text) -> float"},
    {nullptr, nullptr, 0, nullptr},
};

static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_algo", "C++ word statistics.", -1, methods};

PyMODINIT_FUNC PyInit__algo(void) { return PyModule_Create(&module); }
