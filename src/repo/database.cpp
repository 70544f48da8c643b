#include "repo/database.h"

#include <string>

namespace soma::repo {

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path);
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo);

std::int64_t SqlRow::Int(size_t i) const {
  const SqlValue& v = values.at(i);
  if (auto* x = std::get_if<std::int64_t>(&v)) return *x;
  if (auto* x = std::get_if<double>(&v)) return static_cast<std::int64_t>(*x);
  if (auto* x = std::get_if<std::string>(&v)) return x->empty() ? 0 : std::stoll(*x);
  return 0;
}

double SqlRow::Real(size_t i) const {
  const SqlValue& v = values.at(i);
  if (auto* x = std::get_if<double>(&v)) return *x;
  if (auto* x = std::get_if<std::int64_t>(&v)) return static_cast<double>(*x);
  if (auto* x = std::get_if<std::string>(&v)) return x->empty() ? 0.0 : std::stod(*x);
  return 0.0;
}

std::string SqlRow::Text(size_t i) const {
  const SqlValue& v = values.at(i);
  if (auto* x = std::get_if<std::string>(&v)) return *x;
  if (auto* x = std::get_if<std::int64_t>(&v)) return std::to_string(*x);
  if (auto* x = std::get_if<double>(&v)) return std::to_string(*x);
  return "";
}

bool SqlRow::IsNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(values.at(i)); }

Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) return OpenSqliteDatabase(url.substr(7));
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgresDatabase(url);
  }
  return InvalidArgument("database URL '" + url +
                         "': expected sqlite:PATH or postgresql://user@host:port/db");
}

Result<Transaction> Transaction::Write(Database& db) {
  SOMA_RETURN_IF_ERROR(db.BeginWrite());
  return Transaction(&db);
}

Result<Transaction> Transaction::Read(Database& db) {
  SOMA_RETURN_IF_ERROR(db.BeginRead());
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Rollback();
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Internal("transaction committed twice");
  Status s = db_->Commit();
  if (s.ok()) db_ = nullptr;
  return s;
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && db_ != nullptr) pool_->Release(std::move(db_));
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Database> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  SOMA_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenDatabase(url_));
  return Lease(this, std::move(db));
}

void ConnectionPool::Release(std::unique_ptr<Database> db) {
  constexpr size_t kMaxIdle = 16;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(db));
}

}  // namespace soma::repo
