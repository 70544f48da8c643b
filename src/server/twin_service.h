#pragma once
// The twin operations of the HTTP API (/v1/twins, docs/twins.md), shared by
// the server and the CLI's local mode. Twins are repository resources of
// kind "twin" whose versions hold definition.json, state.json and, for a
// model given as a file, model.xml; every call reads and writes them through
// repo::Repository with the caller's Principal, so visibility, roles and the
// audit log apply unchanged (reading a private twin is audited; writing
// needs the rights a version push needs).
//
// Clinical data enters only through the pseudonymising FHIR/CSV intake
// (formats/fhir): names, addresses, identifiers and birth dates never reach
// a twin, its versions or a response.
//
// Events (observation, forecast, alert, fit) are stored in the twin's state
// and also published in process to subscribers (the SSE route).
//
// Thread safety: all methods are thread-safe. Writes to one twin are
// serialised by a per-service mutex.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "repo/repository.h"
#include "server/json_codec.h"
#include "server/query_params.h"
#include "twin/engine.h"

namespace soma::server {

// The node secret for pseudonyms: $SOMA_NODE_SECRET when set (>= 16 bytes),
// else the file data_dir/node-secret, created with 32 random bytes (hex) and
// mode 0600 on first use.
Result<std::string> LoadOrCreateNodeSecret(const std::filesystem::path& data_dir);

class TwinService {
 public:
  TwinService(repo::Repository& repo, std::string node_secret);
  ~TwinService();  // stops event waits and joins fit jobs

  // Body: {"id"?, "definition", "bundle"? (FHIR JSON object), "csv"? (text),
  // "model_sbml"? (text, for a definition with model.file), "visibility"?,
  // "group"?}. Needs contributor. Returns the Twin JSON (201).
  Result<Json> Create(const repo::Principal& p, const Json& body);
  Result<Json> Get(const repo::Principal& p, const std::string& id);
  // Query: limit, offset. Twins the caller may read.
  Result<Json> List(const repo::Principal& p, const Params& query);
  // `body`: a FHIR resource/Bundle, or {"observations": [...], "meals": [...],
  // "doses": [...]} or {"csv": "..."} (docs/twins.md).
  Result<Json> Observe(const repo::Principal& p, const std::string& id, const Json& body);
  // Body: {"horizon"?, "step"?}. Records alert and forecast events.
  Result<Json> Forecast(const repo::Principal& p, const std::string& id, const Json& body);
  // What-if: the forecast from the twin's time under each of several plans
  // of meals and doses (twin::PlannedInterventions), side by side. Body:
  // {"horizon"?, "step"?, "scenarios": [{"name", "actions": [...]}]} (1 to
  // 8 scenarios). Each scenario's forecast is what Forecast would give
  // with its actions added (the same members and noise draws, so an empty
  // plan gives Forecast's numbers). Read-only: nothing is recorded; any
  // signed-in caller who may read the twin; an audited read. Errors: 401,
  // 404, 400 naming the field.
  Result<Json> WhatIf(const repo::Principal& p, const std::string& id, const Json& body);
  // Query: step? (> 0, model time units; default: the definition's forecast
  // step, coarsened to at most 2000 intervals). The twin's history replayed
  // with its current personalised parameters (twin::TwinEngine::Hindcast):
  // the same shape as a forecast, from 0 to the twin's time, bands without
  // observation noise. Read-only (nothing recorded); an audited read.
  // Errors: not readable (404), no history yet (409), bad step (400).
  Result<Json> Hindcast(const repo::Principal& p, const std::string& id, const Params& query);
  // Starts a fit job (202). kUnsupported until soma::infer is available.
  Result<Json> StartFit(const repo::Principal& p, const std::string& id, const Json& body);
  Result<Json> GetJob(const repo::Principal& p, const std::string& id, const std::string& job);
  // The posterior over the personalised parameters as the ensemble holds it
  // (after a fit: draws from the Laplace posterior; else the filter's
  // ensemble), as a population table for trials (docs/trials.md): CSV with
  // a header "member,<parameter>...", one row per member ("<id>-<k>"),
  // linear values. Errors: not readable (404), no members (412).
  Result<std::string> Posterior(const repo::Principal& p, const std::string& id);

  // Stored events with seq > since (an audited read with the caller's rights).
  Result<std::vector<twin::TwinEvent>> Events(const repo::Principal& p, const std::string& id, std::int64_t since);
  // Waits until an event of twin `id` with seq > since is published, Stop()
  // is called or `timeout_ms` passes; returns the published events after
  // `since` (empty on timeout). Call Events() first for access checks.
  std::vector<twin::TwinEvent> WaitForEvents(const std::string& id, std::int64_t since, int timeout_ms);
  void Stop();
  bool stopping();

 private:
  struct Loaded {
    repo::Resource resource;
    repo::Version version;
    twin::TwinDefinition definition;
    std::string model_sbml;  // for model.file twins
    std::shared_ptr<const twin::TwinEngine> engine;
    twin::TwinState state;
  };
  Result<Loaded> Load(const repo::Principal& p, const std::string& id);
  Result<std::shared_ptr<const twin::TwinEngine>> Engine(const repo::Principal& p, twin::TwinDefinition& def,
                                                          const std::string& model_sbml);
  Result<Json> Save(const repo::Principal& p, Loaded& t, const std::string& message, size_t events_before);
  Json TwinJson(const Loaded& t) const;
  void Publish(const std::string& id, const std::vector<twin::TwinEvent>& events);
  // Assimilates `obs` (sorted) and runs the alert forecast; appends events.
  Status Assimilate(Loaded& t, const std::vector<twin::TwinObservation>& obs, Json* issues, int* assimilated);

  repo::Repository& repo_;
  std::string node_secret_;
  std::mutex mu_;  // engines_, events_, stopping_, write serialisation
  std::mutex write_mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<const twin::TwinEngine>> engines_;  // by definition+model hash
  std::map<std::string, std::vector<twin::TwinEvent>> published_;          // recent events per twin
  // Hindcasts depend only on a version's content and the step (no random
  // draws), so the latest few are kept by "id, version hash, step": a
  // dashboard reloads it on every open and every new observation event.
  struct CachedHindcast {
    std::string key;
    Json value;
  };
  std::vector<CachedHindcast> hindcasts_;  // most recent first; guarded by mu_
  static constexpr size_t kHindcastCacheSize = 8;

  struct Job {
    std::string id, twin, owner;
    std::string state = "queued";  // queued, running, done, failed
    double progress = 0;
    std::string message;
    Json result;
    Status error;
  };
  Json JobJson(const Job& j) const;
  void RunFit(repo::Principal p, std::string id, std::string job, int starts, bool profile);
  std::map<std::string, Job> jobs_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace soma::server
