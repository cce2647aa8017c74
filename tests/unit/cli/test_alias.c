/* tests/unit/cli/test_alias.c: alias URLs, the config document, its file and its mode. */
#include "util/base.h"

#include "cli/alias.h"

#include <sys/stat.h>

#include "harness.h"

TEST(cli_alias_parse_url)
{
    struct alias a;
    struct buf msg = BUF_INIT;

    ASSERT_OK(alias_parse_url("prod", "https://AK:se%2Fcr%40et@s3.example.com:9000/", &a, &msg));
    ASSERT_STREQ(a.name, "prod");
    ASSERT_STREQ(a.url, "https://s3.example.com:9000");
    ASSERT_STREQ(a.access_key, "AK");
    ASSERT_STREQ(a.secret_key, "se/cr@et");
    ASSERT_STREQ(a.source, "env");
    ASSERT(!alias_is_vhost(&a));
    alias_release(&a);
    ASSERT_OK(alias_parse_url("aws", "https://AK:SK@s3.eu-west-1.amazonaws.com", &a, &msg));
    ASSERT(alias_is_vhost(&a));
    alias_release(&a);
    ASSERT_EQ(alias_parse_url("x", "http://nocreds.example", &a, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "BASALT_ALIAS_x") != NULL);
    buf_clear(&msg);
    ASSERT_EQ(alias_parse_url("x", "http://AK:@host", &a, &msg), -ERR_INVAL);
    buf_clear(&msg);
    ASSERT_EQ(alias_parse_url("x", "ftp://AK:SK@host", &a, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "SK") == NULL); /* the secret is never repeated */
    buf_release(&msg);
}

TEST(cli_alias_names_and_urls)
{
    struct buf msg = BUF_INIT;
    char *u;

    ASSERT(alias_name_is_valid("local"));
    ASSERT(alias_name_is_valid("my-s3_2"));
    ASSERT(!alias_name_is_valid(""));
    ASSERT(!alias_name_is_valid("2fast"));
    ASSERT(!alias_name_is_valid("/tmp"));
    ASSERT(!alias_name_is_valid("a.b"));
    u = alias_check_url("http://127.0.0.1:9000//", &msg);
    ASSERT_STREQ(u, "http://127.0.0.1:9000");
    free(u);
    ASSERT(alias_check_url("http://host/path", &msg) == NULL);
    ASSERT(alias_check_url("host:9000", &msg) == NULL);
    ASSERT(alias_check_url("http://", &msg) == NULL);
    ASSERT(alias_check_url("http://u@host", &msg) == NULL);
    buf_release(&msg);
}

TEST(cli_alias_config_roundtrip)
{
    static const char doc[] =
        "{\"version\":\"1\",\"aliases\":{"
        "\"local\":{\"url\":\"http://127.0.0.1:9000\",\"accessKey\":\"ak\",\"secretKey\":\"sk\"},"
        "\"aws\":{\"url\":\"https://s3.amazonaws.com\",\"accessKey\":\"A\",\"secretKey\":\"S\","
        "\"region\":\"eu-west-1\",\"path\":\"on\"}}}";
    struct alias_config cfg = { 0 }, again = { 0 };
    struct buf msg = BUF_INIT;
    char *dumped;

    ASSERT_OK(alias_config_parse(slice_cstr(doc), &cfg, &msg));
    ASSERT_EQ(cfg.n, 2);
    ASSERT_STREQ(cfg.v[0].name, "local");
    ASSERT_STREQ(cfg.v[0].region, ALIAS_DEFAULT_REGION);
    ASSERT_EQ(cfg.v[0].style, ALIAS_STYLE_AUTO);
    ASSERT_STREQ(cfg.v[1].region, "eu-west-1");
    ASSERT_EQ(cfg.v[1].style, ALIAS_STYLE_PATH);
    ASSERT(!alias_is_vhost(&cfg.v[1])); /* forced path-style on AWS */
    dumped = alias_config_dump(&cfg);
    ASSERT_OK(alias_config_parse(slice_cstr(dumped), &again, &msg));
    ASSERT_EQ(again.n, 2);
    ASSERT_OK(alias_config_remove(&again, "aws"));
    ASSERT_EQ(alias_config_remove(&again, "aws"), -ERR_NOT_FOUND);
    ASSERT_EQ(again.n, 1);
    free(dumped);
    alias_config_release(&cfg);
    alias_config_release(&again);
    buf_release(&msg);
}

TEST(cli_alias_config_rejects)
{
    struct alias_config cfg = { 0 };
    struct buf msg = BUF_INIT;

    ASSERT_EQ(alias_config_parse(slice_cstr("{nope"), &cfg, &msg), -ERR_INVAL);
    ASSERT(strstr(msg.ptr, "not valid JSON") != NULL);
    ASSERT_EQ(alias_config_parse(slice_cstr("[]"), &cfg, &msg), -ERR_INVAL);
    ASSERT_EQ(alias_config_parse(
                  slice_cstr("{\"aliases\":{\"x\":{\"url\":\"http://h\",\"accessKey\":\"a\"}}}"),
                  &cfg, &msg),
              -ERR_INVAL);
    ASSERT_EQ(alias_config_parse(slice_cstr("{\"aliases\":{\"x\":{\"url\":\"nourl\","
                                            "\"accessKey\":\"a\",\"secretKey\":\"s\"}}}"),
                                 &cfg, &msg),
              -ERR_INVAL);
    ASSERT_EQ(cfg.n, 0);
    ASSERT_OK(alias_config_parse(slice_cstr("{}"), &cfg, &msg));
    ASSERT_EQ(cfg.n, 0);
    buf_release(&msg);
}

TEST(cli_alias_config_file_mode)
{
    struct alias_config cfg = { 0 }, back = { 0 };
    struct alias a = { 0 };
    struct buf msg = BUF_INIT, path = BUF_INIT;
    struct stat st;

    setenv("BASALT_CONFIG_DIR", harness_tmpdir(), 1);
    a.name = xstrdup("local");
    a.url = xstrdup("http://127.0.0.1:9000");
    a.access_key = xstrdup("ak");
    a.secret_key = xstrdup("sk");
    a.region = xstrdup("us-east-1");
    alias_config_set(&cfg, &a);
    ASSERT_OK(alias_config_save(&cfg, &msg));
    alias_config_path(&path);
    ASSERT_OK(stat(path.ptr, &st));
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_OK(alias_config_load(&back, &msg));
    ASSERT_EQ(back.n, 1);
    alias_config_release(&back);
    chmod(path.ptr, 0640);
    ASSERT_EQ(alias_config_load(&back, &msg), -ERR_ACCESS_DENIED);
    ASSERT(strstr(msg.ptr, "chmod 600") != NULL);
    ASSERT(strstr(msg.ptr, "mode 0640") != NULL);
    alias_config_release(&cfg);
    buf_release(&msg);
    buf_release(&path);
}
