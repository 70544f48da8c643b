// Twin definitions: parsing, errors naming the field, round trip.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "twin/definition.h"

namespace soma::twin {
namespace {

Json Example() {
  std::ifstream in(std::string(SOMA_SOURCE_DIR) + "/twins/t1d-cgm.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

TEST(TwinDefinition, ParsesTheExampleAndRoundTrips) {
  auto d = ParseTwinDefinition(Example());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->model.kind, ModelRef::Kind::kBundled);
  EXPECT_EQ(d->observations.size(), 2u);
  EXPECT_EQ(d->Personalised().size(), 2u);
  EXPECT_TRUE(d->meal.has_value());
  auto again = ParseTwinDefinition(ToJson(*d));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ToJson(*again), ToJson(*d));
}

TEST(TwinDefinition, NoiseVariance) {
  NoiseModel add{NoiseModel::Kind::kAdditive, 2, 0.5};
  NoiseModel prop{NoiseModel::Kind::kProportional, 2, 0.1};
  NoiseModel comb{NoiseModel::Kind::kCombined, 2, 0.1};
  EXPECT_DOUBLE_EQ(add.Variance(100), 4);
  EXPECT_DOUBLE_EQ(prop.Variance(100), 100);
  EXPECT_DOUBLE_EQ(comb.Variance(100), 104);
}

void ExpectError(Json j, const std::string& fragment) {
  auto d = ParseTwinDefinition(j);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(fragment), std::string::npos) << d.status().message();
}

TEST(TwinDefinition, ErrorsNameTheField) {
  Json j = Example();
  j["observations"][0]["noise"]["sd"] = -1;
  ExpectError(j, "observations[0].noise.sd");
  j = Example();
  j["extra"] = 1;
  ExpectError(j, "extra: unknown field");
  j = Example();
  j["parameters"][0]["prior"]["distribution"] = "gamma";
  ExpectError(j, "parameters[0].prior.distribution");
  j = Example();
  j["alerts"][0].erase("below");
  ExpectError(j, "alerts[0]: exactly one of below, above");
  j = Example();
  j["assimilation"]["ensemble_size"] = 3;
  ExpectError(j, "assimilation.ensemble_size");
  j = Example();
  j["model"] = {{"bundled", "a.xml"}, {"resource", "b"}};
  ExpectError(j, "model: exactly one of");
  j = Example();
  j["parameters"][0]["prior"] = {{"distribution", "normal"}, {"mean", 0.03}, {"sd", 0.01}};
  j["parameters"][0]["lower"] = -1;
  ExpectError(j, "log scale");
}

}  // namespace
}  // namespace soma::twin
