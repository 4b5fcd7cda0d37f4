#include "cache/lmdb_util.h"

#include <cerrno>

namespace repofs::cache {

Error MdbError(int rc, std::string_view what) {
  int errno_value = EIO;
  if (rc == MDB_MAP_FULL) errno_value = ENOSPC;
  if (rc > 0) errno_value = rc;  // LMDB passes errno values through
  return Error{errno_value, std::string(what) + ": " + mdb_strerror(rc)};
}

Result<Txn> Txn::Begin(MDB_env* env, bool read_only) {
  MDB_txn* raw = nullptr;
  int rc = mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &raw);
  if (rc != MDB_SUCCESS) return MdbError(rc, "mdb_txn_begin");
  Txn txn;
  txn.txn_ = raw;
  return txn;
}

int Txn::Commit() {
  if (txn_ == nullptr) return EINVAL;
  return mdb_txn_commit(std::exchange(txn_, nullptr));
}

int Txn::Get(MDB_dbi dbi, std::string_view key, std::string_view* value) const {
  MDB_val k = ToVal(key), v{};
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_SUCCESS) *value = FromVal(v);
  return rc;
}

int Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value,
             unsigned flags) {
  MDB_val k = ToVal(key), v = ToVal(value);
  return mdb_put(txn_, dbi, &k, &v, flags);
}

int Txn::Del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) {
  if (mdb_cursor_open(txn.get(), dbi, &cursor_) != MDB_SUCCESS)
    cursor_ = nullptr;
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

bool Cursor::Move(MDB_cursor_op op, std::string_view seek) {
  if (cursor_ == nullptr) return false;
  MDB_val k = ToVal(seek), v{};
  if (mdb_cursor_get(cursor_, &k, &v, op) != MDB_SUCCESS) return false;
  key_ = FromVal(k);
  value_ = FromVal(v);
  return true;
}

bool Cursor::Seek(std::string_view key) {
  return key.empty() ? First() : Move(MDB_SET_RANGE, key);
}
bool Cursor::First() { return Move(MDB_FIRST); }
bool Cursor::Next() { return Move(MDB_NEXT); }
bool Cursor::Last() { return Move(MDB_LAST); }

int Cursor::Delete() { return mdb_cursor_del(cursor_, 0); }

}  // namespace repofs::cache
