#include "core/labels.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

namespace berth::core {
namespace {

using Op = LabelSelector::Op;

LabelSelector mustParse(std::string_view s) {
  auto r = LabelSelector::parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? r.value() : LabelSelector();
}

std::string parseError(std::string_view s) {
  auto r = LabelSelector::parse(s);
  EXPECT_FALSE(r.ok()) << s;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), 400);
  EXPECT_EQ(r.status().reason(), "BadRequest");
  return r.status().message();
}

TEST(LabelSelectorTest, ParsesAllOperators) {
  auto sel = mustParse(" x in (foo,,baz),y,z notin (),!w, a==b , c!=d, e=, n>5, m<2");
  ASSERT_EQ(sel.requirements().size(), 9u);
  // Sorted by key.
  EXPECT_EQ(sel.toString(), "a=b,c!=d,e=,m<2,n>5,!w,x in (,baz,foo),y,z notin ()");
  const auto& x = sel.requirements()[6];
  EXPECT_EQ(x.key, "x");
  EXPECT_EQ(x.op, Op::kIn);
  EXPECT_EQ(x.values, (std::vector<std::string>{"", "baz", "foo"}));
}

TEST(LabelSelectorTest, Matches) {
  Labels l{{"app", "web"}, {"tier", "front"}, {"n", "7"}};
  EXPECT_TRUE(mustParse("").matches(l));
  EXPECT_TRUE(mustParse("app=web").matches(l));
  EXPECT_FALSE(mustParse("app=db").matches(l));
  EXPECT_TRUE(mustParse("app!=db").matches(l));
  EXPECT_TRUE(mustParse("missing!=x").matches(l));
  EXPECT_TRUE(mustParse("tier in (front,back)").matches(l));
  EXPECT_FALSE(mustParse("tier notin (front)").matches(l));
  EXPECT_TRUE(mustParse("other notin (front)").matches(l));
  EXPECT_TRUE(mustParse("app,!missing").matches(l));
  EXPECT_FALSE(mustParse("!app").matches(l));
  EXPECT_TRUE(mustParse("n>6,n<8").matches(l));
  EXPECT_FALSE(mustParse("n>7").matches(l));
  EXPECT_FALSE(mustParse("app>1").matches(l));  // not an integer
  // Negative bounds are not valid label values, as upstream.
  EXPECT_FALSE(LabelSelector::parse("n>-1").ok());
}

TEST(LabelSelectorTest, KeywordsAsValuesAndKeys) {
  auto sel = mustParse("in in (in,notin)");
  EXPECT_TRUE(sel.matches({{"in", "notin"}}));
  EXPECT_EQ(mustParse("a=in").requirements()[0].values[0], "in");
  EXPECT_EQ(mustParse("example.com/app=x").requirements()[0].key, "example.com/app");
}

TEST(LabelSelectorTest, UpstreamErrorMessages) {
  EXPECT_EQ(parseError("x y"),
            "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt");
  EXPECT_EQ(parseError("x="
                       "=y=z"),
            "found '=', expected: ',' or 'end of string'");
  EXPECT_EQ(parseError("a,"), "found '', expected: identifier after ','");
  EXPECT_EQ(parseError("=a"), "found '=', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(parseError("x in a"), "unable to parse requirement: found 'a' expected: '('");
  EXPECT_EQ(parseError("x in (a"), "unable to parse requirement: found '', expected: ',' or ')'");
  EXPECT_EQ(parseError("x in (a b)"),
            "unable to parse requirement: found 'b', expected: ',' or ')'");
  EXPECT_EQ(parseError("x=(a)"), "unable to parse requirement: found '(', expected: identifier");
  EXPECT_EQ(parseError("!=a"), "found '!=', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(parseError("! =a"), "unable to parse requirement: found '=', expected: identifier");
  EXPECT_EQ(parseError("x>a"),
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
            "operators, the value must be an integer");
  std::string badKey = parseError("-x=a");
  EXPECT_EQ(badKey.rfind("unable to parse requirement: <nil>: Invalid value: \"-x\": name part "
                         "must consist of alphanumeric characters",
                         0),
            0u)
      << badKey;
  EXPECT_NE(badKey.find("(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
                        "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
            std::string::npos)
      << badKey;
  std::string badValue = parseError("app=a_");
  EXPECT_EQ(badValue.rfind("unable to parse requirement: values[0][app]: Invalid value: \"a_\": "
                           "a valid label must be an empty string",
                           0),
            0u)
      << badValue;
  EXPECT_NE(parseError("a/b/c").find("a qualified name must consist"), std::string::npos);
  EXPECT_NE(parseError("Example.com/x").find("prefix part a lowercase RFC 1123 subdomain"),
            std::string::npos);
  EXPECT_NE(parseError(std::string(64, 'a')).find("name part must be no more than 63 characters"),
            std::string::npos);
  EXPECT_NE(parseError("a=" + std::string(64, 'b')).find("must be no more than 63 characters"),
            std::string::npos);
}

TEST(LabelSelectorTest, FromJson) {
  auto obj = boost::json::parse(R"({"matchLabels":{"b":"2","a":"1"},
      "matchExpressions":[{"key":"c","operator":"In","values":["y","x"]},
                          {"key":"d","operator":"DoesNotExist"}]})")
                 .as_object();
  auto sel = LabelSelector::fromJson(obj);
  ASSERT_TRUE(sel.ok()) << sel.status().message();
  EXPECT_EQ(sel->toString(), "a=1,b=2,c in (x,y),!d");
  EXPECT_TRUE(sel->matches({{"a", "1"}, {"b", "2"}, {"c", "x"}}));
  EXPECT_FALSE(sel->matches({{"a", "1"}, {"b", "2"}, {"c", "x"}, {"d", ""}}));
  EXPECT_EQ(sel->exactValue("a"), "1");
  EXPECT_FALSE(sel->exactValue("c").has_value());
  EXPECT_TRUE(LabelSelector::fromJson(boost::json::object())->empty());

  auto bad = LabelSelector::fromJson(
      boost::json::parse(R"({"matchExpressions":[{"key":"c","operator":"Is"}]})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "\"Is\" is not a valid label selector operator");
  auto empty = LabelSelector::fromJson(
      boost::json::parse(R"({"matchExpressions":[{"key":"c","operator":"In"}]})").as_object());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("values set can't be empty"), std::string::npos);
}

TEST(LabelSelectorTest, LabelsOf) {
  auto obj = boost::json::parse(R"({"metadata":{"labels":{"a":"1","n":5}}})").as_object();
  auto l = labelsOf(obj);
  EXPECT_EQ(l.size(), 1u);
  EXPECT_EQ(l["a"], "1");
  EXPECT_TRUE(labelsOf(boost::json::object()).empty());
}

// ---- property tests ----

std::string randomName(std::mt19937& rng, bool allowEmpty) {
  static const std::string kAlnum =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static const std::string kInner = kAlnum + "-_.";
  int len = std::uniform_int_distribution<int>(allowEmpty ? 0 : 1, 12)(rng);
  if (len == 0) return "";
  std::string s;
  for (int i = 0; i < len; ++i) {
    const std::string& set = (i == 0 || i == len - 1) ? kAlnum : kInner;
    s += set[rng() % set.size()];
  }
  return s;
}

std::string randomKey(std::mt19937& rng) {
  std::string key = randomName(rng, false);
  if (rng() % 4 == 0) key = "example" + std::to_string(rng() % 10) + ".io/" + key;
  if (rng() % 20 == 0) key = "in";
  return key;
}

TEST(LabelSelectorPropertyTest, RandomValidSelectorsRoundTrip) {
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    int n = std::uniform_int_distribution<int>(1, 5)(rng);
    for (int i = 0; i < n; ++i) {
      if (i) text += rng() % 2 ? "," : " , ";
      std::string key = randomKey(rng);
      switch (rng() % 8) {
        case 0:
          text += key;
          break;
        case 1:
          text += "!" + key;
          break;
        case 2:
          text += key + "=" + randomName(rng, true);
          break;
        case 3:
          text += key + " == " + randomName(rng, true);
          break;
        case 4:
          text += key + "!=" + randomName(rng, true);
          break;
        case 5:
        case 6: {
          text += key + (rng() % 2 ? " in (" : " notin (");
          int m = std::uniform_int_distribution<int>(1, 3)(rng);
          for (int j = 0; j < m; ++j) text += (j ? "," : "") + randomName(rng, j == 0);
          text += ")";
          break;
        }
        case 7:
          text += key + (rng() % 2 ? ">" : "<") + std::to_string(rng() % 1000);
      }
    }
    auto first = LabelSelector::parse(text);
    ASSERT_TRUE(first.ok()) << text << ": " << first.status().message();
    std::string canonical = first->toString();
    auto second = LabelSelector::parse(canonical);
    ASSERT_TRUE(second.ok()) << canonical << ": " << second.status().message();
    EXPECT_EQ(second->toString(), canonical);
    ASSERT_EQ(second->requirements().size(), first->requirements().size());
    for (size_t i = 0; i < first->requirements().size(); ++i) {
      EXPECT_EQ(second->requirements()[i].key, first->requirements()[i].key);
      EXPECT_EQ(second->requirements()[i].op, first->requirements()[i].op);
      EXPECT_EQ(second->requirements()[i].values, first->requirements()[i].values);
    }
    // The same labels match both.
    Labels labels;
    for (const auto& r : first->requirements()) {
      if (rng() % 2) labels[r.key] = r.values.empty() ? "v" : r.values[rng() % r.values.size()];
    }
    EXPECT_EQ(first->matches(labels), second->matches(labels)) << text;
  }
}

TEST(LabelSelectorPropertyTest, RandomBytesNeverCrash) {
  std::mt19937 rng(777);
  static const std::string kAlphabet("ab=!(),<> \tin notin/.-_\\\0\xff", 26);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text;
    int len = rng() % 40;
    for (int i = 0; i < len; ++i) {
      text += iter % 2 ? static_cast<char>(rng() % 256) : kAlphabet[rng() % kAlphabet.size()];
    }
    auto r = LabelSelector::parse(text);
    if (r.ok()) {
      // Whatever parses must print something that parses to the same thing.
      auto again = LabelSelector::parse(r->toString());
      ASSERT_TRUE(again.ok()) << r->toString();
      EXPECT_EQ(again->toString(), r->toString());
    } else {
      EXPECT_EQ(r.status().code(), 400);
    }
    auto f = FieldSelector::parse(text);
    if (!f.ok()) EXPECT_EQ(f.status().code(), 400);
  }
}

// ---- field selectors ----

TEST(FieldSelectorTest, ParseAndMatch) {
  auto sel = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed,metadata.name==x");
  ASSERT_TRUE(sel.ok()) << sel.status().message();
  ASSERT_EQ(sel->requirements().size(), 3u);
  // Terms are sorted as upstream sorts them.
  EXPECT_EQ(sel->requirements()[0].field, "metadata.name");
  std::map<std::string, std::string> fields{
      {"spec.nodeName", "n1"}, {"status.phase", "Running"}, {"metadata.name", "x"}};
  EXPECT_TRUE(sel->matches(fields));
  fields["status.phase"] = "Failed";
  EXPECT_FALSE(sel->matches(fields));
  EXPECT_EQ(sel->exactValue("spec.nodeName"), "n1");
  EXPECT_FALSE(sel->exactValue("status.phase").has_value());
  EXPECT_TRUE(FieldSelector::parse("")->empty());
  // Missing fields read as "".
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName=")->matches({}));
}

TEST(FieldSelectorTest, Escapes) {
  auto sel = FieldSelector::parse(R"(metadata.name=a\,b\=c\\d)");
  ASSERT_TRUE(sel.ok()) << sel.status().message();
  EXPECT_EQ(sel->requirements()[0].value, R"(a,b=c\d)");
  EXPECT_EQ(sel->toString(), R"(metadata.name=a\,b\=c\\d)");
  EXPECT_EQ(FieldSelector::parse(R"(a=b\x)").status().message(),
            "invalid field selector: invalid escape sequence: \\x");
  EXPECT_EQ(FieldSelector::parse(R"(a=b\)").status().message(),
            "invalid field selector: invalid escape sequence: \\");
  EXPECT_EQ(FieldSelector::parse("a=b=c").status().message(),
            "invalid field selector: unescaped character in value: 61");
  EXPECT_EQ(FieldSelector::parse("a,b").status().message(),
            "invalid selector: 'a,b'; can't understand 'a'");
}

TEST(FieldSelectorPropertyTest, RoundTrip) {
  std::mt19937 rng(99);
  static const std::string kChars = "ab.,=\\!x";
  for (int iter = 0; iter < 2000; ++iter) {
    FieldSelector::Requirement want{"f" + std::to_string(rng() % 5), rng() % 2 == 0, ""};
    int len = rng() % 8;
    for (int i = 0; i < len; ++i) want.value += kChars[rng() % kChars.size()];
    // Build the text by escaping the value as upstream's EscapeValue does.
    std::string escaped;
    for (char c : want.value) {
      if (c == '\\' || c == ',' || c == '=') escaped += '\\';
      escaped += c;
    }
    std::string text = want.field + (want.equals ? "=" : "!=") + escaped;
    auto sel = FieldSelector::parse(text);
    ASSERT_TRUE(sel.ok()) << text << ": " << sel.status().message();
    ASSERT_EQ(sel->requirements().size(), 1u) << text;
    EXPECT_EQ(sel->requirements()[0].field, want.field);
    EXPECT_EQ(sel->requirements()[0].equals, want.equals) << text;
    EXPECT_EQ(sel->requirements()[0].value, want.value) << text;
    EXPECT_EQ(sel->toString(), text);
  }
}

}  // namespace
}  // namespace berth::core
