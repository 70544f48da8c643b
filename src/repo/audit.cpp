// The append-only audit log: each entry's hash covers the previous entry's
// hash and its own fields, so editing, removing or reordering any entry
// breaks every hash after it. audit_head holds the last (seq, hash); updating
// it first in the writer's transaction serialises appends on both backends
// (SQLite's write lock, PostgreSQL's row lock).

#include <string>

#include "repo/crypto.h"
#include "repo/json.h"
#include "repo/repository_impl.h"

namespace soma::repo {
namespace {

constexpr char kGenesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

std::string EntryHash(const std::string& prev_hash, std::int64_t seq, std::int64_t time_ms,
                      const std::string& actor, const std::string& action,
                      const std::string& target, const std::string& detail) {
  // Length-prefixed fields: no separator inside a field can forge another split.
  std::string data;
  auto add = [&data](const std::string& s) {
    data += std::to_string(s.size());
    data += ':';
    data += s;
  };
  add(prev_hash);
  add(std::to_string(seq));
  add(std::to_string(time_ms));
  add(actor);
  add(action);
  add(target);
  add(detail);
  return Sha256Hex(data);
}

AuditEntry DecodeEntry(const SqlRow& row) {
  AuditEntry e;
  e.seq = row.Int(0);
  e.time_ms = row.Int(1);
  e.actor = row.Text(2);
  e.action = row.Text(3);
  e.target = row.Text(4);
  e.detail = row.Text(5);
  e.prev_hash = row.Text(6);
  e.hash = row.Text(7);
  return e;
}

constexpr char kEntryColumns[] = "seq, time_ms, actor, action, target, detail, prev_hash, hash";

}  // namespace

Status AppendAudit(Database& db, const std::string& actor, const std::string& action,
                   const std::string& target, const std::string& detail) {
  SOMA_ASSIGN_OR_RETURN(
      auto head, db.Query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash", {}));
  if (head.size() != 1) return DataLoss("audit_head row is missing");
  std::int64_t seq = head[0].Int(0);
  std::string prev = head[0].Text(1);
  std::int64_t time_ms = NowMs();
  std::string hash = EntryHash(prev, seq, time_ms, actor, action, target, detail);
  SOMA_RETURN_IF_ERROR(db.Exec("UPDATE audit_head SET hash = ? WHERE id = 1", {hash}));
  return db.Exec(
      "INSERT INTO audit_log (seq, time_ms, actor, action, target, detail, prev_hash, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {seq, time_ms, actor, action, target, detail, prev, hash});
}

Result<Page<AuditEntry>> Repository::ListAudit(const Principal& p, int limit, int offset) {
  if (p.anonymous()) return Unauthenticated("sign in to read the audit log");
  if (p.role != Role::kAdmin) return PermissionDenied("the audit log is for admins");
  if (limit < 1 || limit > 1000) return InvalidArgument("limit: must be 1-1000");
  if (offset < 0) return InvalidArgument("offset: must be >= 0");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(auto count, db->Query("SELECT COUNT(*) FROM audit_log", {}));
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query(std::string("SELECT ") + kEntryColumns +
                                                 " FROM audit_log ORDER BY seq DESC LIMIT ? OFFSET ?",
                                             {std::int64_t{limit}, std::int64_t{offset}}));
  Page<AuditEntry> page;
  page.total = static_cast<int>(count[0].Int(0));
  for (const SqlRow& row : rows) page.items.push_back(DecodeEntry(row));
  return page;
}

Result<AuditReport> Repository::VerifyAudit() {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Read(*db));
  AuditReport report;
  std::string prev = kGenesis;
  std::int64_t expected_seq = 1;
  constexpr std::int64_t kBatch = 5000;
  auto fail = [&report](std::int64_t seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
  };
  for (std::int64_t from = 0;; from += kBatch) {
    SOMA_ASSIGN_OR_RETURN(
        auto rows, db->Query(std::string("SELECT ") + kEntryColumns +
                                 " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
                             {expected_seq - 1, kBatch}));
    for (const SqlRow& row : rows) {
      AuditEntry e = DecodeEntry(row);
      if (e.seq != expected_seq) {
        fail(expected_seq, "entry " + std::to_string(expected_seq) + " is missing (next is " +
                               std::to_string(e.seq) + ")");
        return report;
      }
      if (e.prev_hash != prev) {
        fail(e.seq, "entry " + std::to_string(e.seq) + " does not link to the entry before it");
        return report;
      }
      std::string h = EntryHash(e.prev_hash, e.seq, e.time_ms, e.actor, e.action, e.target, e.detail);
      if (h != e.hash) {
        fail(e.seq, "entry " + std::to_string(e.seq) + " (" + e.action + " " + e.target +
                        ") was altered: its hash does not match its content");
        return report;
      }
      prev = e.hash;
      ++expected_seq;
      ++report.entries;
    }
    if (static_cast<std::int64_t>(rows.size()) < kBatch) break;
  }
  SOMA_ASSIGN_OR_RETURN(auto head, db->Query("SELECT seq, hash FROM audit_head WHERE id = 1", {}));
  if (head.size() != 1) {
    fail(expected_seq, "the audit head record is missing");
  } else if (head[0].Int(0) != expected_seq - 1 || head[0].Text(1) != prev) {
    fail(expected_seq, "the log ends at entry " + std::to_string(expected_seq - 1) +
                           " but the head records entry " + std::to_string(head[0].Int(0)) +
                           ": entries were removed from the end");
  }
  return report;
}

}  // namespace soma::repo
