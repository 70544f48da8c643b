// Community feedback: comments and reviews (rating 1-5) on resources the
// author can read; curators hide or restore items with a note. Hidden items
// are shown only to curators and admins and do not count in ratings.

#include <algorithm>
#include <cctype>

#include "repo/crypto.h"
#include "repo/json.h"
#include "repo/repository_impl.h"

namespace soma::repo {
using nlohmann::json;
namespace {

constexpr char kFeedbackColumns[] =
    "id, resource_id, kind, author, text, rating, hidden, moderation_note, created_ms";

Feedback Decode(const SqlRow& r) {
  Feedback f;
  f.id = r.Text(0);
  f.resource_id = r.Text(1);
  f.kind = r.Text(2) == "review" ? FeedbackKind::kReview : FeedbackKind::kComment;
  f.author = r.Text(3);
  f.text = r.Text(4);
  f.rating = static_cast<int>(r.Int(5));
  f.hidden = r.Int(6) != 0;
  f.moderation_note = r.Text(7);
  f.created_ms = r.Int(8);
  return f;
}

}  // namespace

Status UpdateRating(Database& db, const std::string& resource_id) {
  SOMA_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT AVG(rating), COUNT(*) FROM feedback WHERE resource_id = ? "
                                            "AND kind = 'review' AND hidden = 0",
                                            {resource_id}));
  double avg = rows[0].IsNull(0) ? 0.0 : rows[0].Real(0);
  return db.Exec("UPDATE resources SET rating = ?, review_count = ? WHERE id = ?",
                 {avg, rows[0].Int(1), resource_id});
}

namespace {
Result<Feedback> AddFeedback(Repository::Impl& impl, const Principal& p, const std::string& id,
                             FeedbackKind kind, int rating, const std::string& text) {
  if (p.anonymous()) return Unauthenticated("sign in to give feedback");
  bool blank = std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (kind == FeedbackKind::kComment && blank) return InvalidArgument("text: a comment must not be empty");
  if (text.size() > 20000) return InvalidArgument("text: longer than 20000 characters");
  if (kind == FeedbackKind::kReview && (rating < 1 || rating > 5)) {
    return InvalidArgument("rating = " + std::to_string(rating) + ": must be 1-5");
  }
  SOMA_ASSIGN_OR_RETURN(auto db, impl.pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(Resource r, impl.LoadVisible(*db, p, id));
  Feedback f;
  f.id = RandomHex(8);
  f.resource_id = id;
  f.kind = kind;
  f.author = p.user;
  f.text = text;
  f.rating = kind == FeedbackKind::kReview ? rating : 0;
  f.created_ms = NowMs();
  SOMA_RETURN_IF_ERROR(db->Exec(
      std::string("INSERT INTO feedback (") + kFeedbackColumns + ") VALUES (?, ?, ?, ?, ?, ?, 0, '', ?)",
      {f.id, id, std::string(kind == FeedbackKind::kReview ? "review" : "comment"), f.author, f.text,
       std::int64_t{f.rating}, f.created_ms}));
  if (kind == FeedbackKind::kReview) SOMA_RETURN_IF_ERROR(UpdateRating(*db, id));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, kind == FeedbackKind::kReview ? "review.add" : "comment.add", id,
                                   json{{"feedback_id", f.id}, {"rating", f.rating}}.dump()));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return f;
}
}  // namespace

Result<Feedback> Repository::AddComment(const Principal& p, const std::string& id, const std::string& text) {
  return AddFeedback(*impl_, p, id, FeedbackKind::kComment, 0, text);
}

Result<Feedback> Repository::AddReview(const Principal& p, const std::string& id, int rating,
                                       const std::string& text) {
  return AddFeedback(*impl_, p, id, FeedbackKind::kReview, rating, text);
}

Result<std::vector<Feedback>> Repository::ListFeedback(const Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  bool moderator = !p.anonymous() && p.role >= Role::kCurator;
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query(std::string("SELECT ") + kFeedbackColumns +
                                                 " FROM feedback WHERE resource_id = ? ORDER BY created_ms, id",
                                             {id}));
  std::vector<Feedback> out;
  for (const SqlRow& row : rows) {
    Feedback f = Decode(row);
    if (f.hidden && !moderator) continue;
    out.push_back(std::move(f));
  }
  return out;
}

Result<Feedback> Repository::Moderate(const Principal& p, const std::string& feedback_id, bool hidden,
                                      const std::string& note) {
  if (p.anonymous()) return Unauthenticated("sign in to moderate");
  if (p.role < Role::kCurator) return PermissionDenied("moderation needs the curator role");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query(std::string("SELECT ") + kFeedbackColumns + " FROM feedback WHERE id = ?", {feedback_id}));
  if (rows.empty()) return NotFound("feedback '" + feedback_id + "' not found");
  Feedback f = Decode(rows[0]);
  SOMA_RETURN_IF_ERROR(impl_->LoadVisible(*db, p, f.resource_id).status());
  SOMA_RETURN_IF_ERROR(db->Exec("UPDATE feedback SET hidden = ?, moderation_note = ? WHERE id = ?",
                                {std::int64_t{hidden ? 1 : 0}, note, feedback_id}));
  SOMA_RETURN_IF_ERROR(UpdateRating(*db, f.resource_id));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, hidden ? "feedback.hide" : "feedback.show", f.resource_id,
                                   json{{"feedback_id", feedback_id}, {"note", note}}.dump()));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  f.hidden = hidden;
  f.moderation_note = note;
  return f;
}

}  // namespace soma::repo
