#include "core/histogram.h"

#include <gtest/gtest.h>

#include "core/metrics.h"

namespace bluegate {
namespace {

constexpr double kBounds[] = {0.01, 0.1, 1};

TEST(HistogramTest, BucketsAreCumulativeWithSumAndCount) {
  Histogram h(kBounds);
  h.Observe(0.005);
  h.Observe(0.01);  // on a bound: counted under it (le)
  h.Observe(0.5);
  h.Observe(7);
  std::string out;
  h.Render(out, "x_seconds", R"(route="/a")");
  EXPECT_EQ(out,
            "x_seconds_bucket{route=\"/a\",le=\"0.01\"} 2\n"
            "x_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"
            "x_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
            "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
            "x_seconds_sum{route=\"/a\"} 7.515000\n"
            "x_seconds_count{route=\"/a\"} 4\n");
}

TEST(HistogramTest, WithoutLabelsAndNegativeTimesCountAsZero) {
  Histogram h(kBounds);
  h.Observe(-1);  // a clock step back
  std::string out;
  h.Render(out, "y", "");
  EXPECT_NE(out.find("y_bucket{le=\"0.01\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_sum 0.000000\ny_count 1\n"), std::string::npos) << out;
}

TEST(HistogramTest, MetricsRenderTheThreeHistograms) {
  Metrics m;
  m.ObserveRequest("/api/send-message", 0.0004);
  m.ObserveRequest("/api/send-message", 0.003);
  m.ObserveFinal(Service::kSms, 2);
  m.ObserveWebhook("status_callback", 0.02);
  const std::string out = m.RenderPrometheus();
  EXPECT_NE(out.find("# TYPE bluegate_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(out.find("bluegate_http_request_duration_seconds_bucket{route=\"/api/send-message\","
                     "le=\"0.0005\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("bluegate_http_request_duration_seconds_count{route=\"/api/send-message\"} 2"),
            std::string::npos);
  EXPECT_NE(out.find("bluegate_message_final_seconds_bucket{service=\"SMS\",le=\"2.5\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("bluegate_message_final_seconds_count{service=\"iMessage\"} 0\n"),
            std::string::npos);
  EXPECT_NE(out.find("bluegate_webhook_delivery_latency_seconds_bucket{kind=\"status_callback\","
                     "le=\"0.025\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace bluegate
