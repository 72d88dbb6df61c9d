//! Data from scripts: CSV both ways, base64 and hex, digests of strings, blobs and files,
//! uuids, TOML and YAML, and the errors for input that is not what it claims.

use crate::support::Test;

#[track_caller]
fn prints(expr: &str, expected: &str) {
    Test::new()
        .file("data/orders.csv", "id,email,note\n1,ann@example.com,\"says \"\"hi\"\", then\"\n2,bob@example.com,\"two\nlines\"\n")
        .file("data/blob.bin", "abc")
        .args(&["-e", expr])
        .stdout(&format!("{expected}\n"))
        .run();
}

#[test]
fn csv_reads_a_header_row_into_maps_and_writes_it_back_quoted() {
    for (expr, expected) in [
        (
            r#"parse_csv(read_file("data/orders.csv"))"#,
            r#"[#{"email": "ann@example.com", "id": "1", "note": "says \"hi\", then"}, #{"email": "bob@example.com", "id": "2", "note": "two\nlines"}]"#,
        ),
        (
            r#"parse_csv(read_file("data/orders.csv"))[1].note"#,
            "two\nlines",
        ),
        (
            r#"to_csv(parse_csv(read_file("data/orders.csv")), ["id", "email", "note"]) == read_file("data/orders.csv")"#,
            "true",
        ),
        (
            r#"to_csv([#{id: 1, name: "x"}, #{id: 2, name: "y", extra: true}])"#,
            "id,name,extra\n1,x,\n2,y,true\n",
        ),
        (r#"to_csv([#{b: 1, a: 2}], ["b", "a"])"#, "b,a\n1,2\n"),
        (
            r#"to_csv([[1, "a,b", ()], [2.5, "", "tab\there"]])"#,
            "1,\"a,b\",\n2.5,,tab\there\n",
        ),
        (r#"to_csv([["x"]], ["col"])"#, "col\nx\n"),
        (
            r#"to_csv([#{at: from_unix(0), tags: ["a", "b"], meta: #{k: 1}}], ["at", "tags", "meta"])"#,
            "at,tags,meta\n1970-01-01T00:00:00Z,\"[\"\"a\"\",\"\"b\"\"]\",\"{\"\"k\"\":1}\"\n",
        ),
        (r#"to_csv([]) == """#, "true"),
        (
            r#"parse_csv("a;b\n1;2", #{delimiter: ";"})"#,
            r#"[#{"a": "1", "b": "2"}]"#,
        ),
        (
            r#"parse_csv("a,b\n1,2", #{header: false})"#,
            r#"[["a", "b"], ["1", "2"]]"#,
        ),
        ("parse_csv(\"\u{feff}id\\n7\")", r#"[#{"id": "7"}]"#),
        (r#"parse_csv("id\r\n7\r\n")"#, r#"[#{"id": "7"}]"#),
        (r#"parse_csv("")"#, "[]"),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn encodings_digests_and_uuids() {
    for (expr, expected) in [
        (r#"base64_encode("hello?>")"#, "aGVsbG8/Pg=="),
        (r#"base64url_encode("hello?>")"#, "aGVsbG8_Pg"),
        (r"base64_encode(blob(3, 255))", "////"),
        (r#"base64_decode("aGVsbG8/Pg==").as_string()"#, "hello?>"),
        (r#"base64_decode("aGVsbG8/Pg").as_string()"#, "hello?>"),
        (r#"base64_decode("aGVsbG8_Pg").as_string()"#, "hello?>"),
        (r#"base64_decode("aGVs\nbG8=").as_string()"#, "hello"),
        (r#"base64_decode("").len()"#, "0"),
        (r#"hex_encode("hi")"#, "6869"),
        (r"hex_encode(blob(2, 171))", "abab"),
        (r#"hex_decode("6869").as_string()"#, "hi"),
        (r#"hex_decode("ABab").len()"#, "2"),
        (
            r#"sha256("abc")"#,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (r#"sha1("abc")"#, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (r#"md5("abc")"#, "900150983cd24fb0d6963f7d28e17f72"),
        (r#"md5("")"#, "d41d8cd98f00b204e9800998ecf8427e"),
        (
            r"sha256(blob(0))",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            r#"sha256_file("data/blob.bin")"#,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            r#"sha1_file("data/blob.bin")"#,
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        (
            r#"md5_file("data/blob.bin")"#,
            "900150983cd24fb0d6963f7d28e17f72",
        ),
        (
            r#"re_match(uuid(), "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")"#,
            "true",
        ),
        (
            r#"re_match(uuid_v7(), "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")"#,
            "true",
        ),
        ("uuid() != uuid()", "true"),
        (
            "let a = uuid_v7(); sleep(0.002); let b = uuid_v7(); a < b",
            "true",
        ),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn toml_and_yaml_both_ways() {
    for (expr, expected) in [
        (
            r#"parse_toml("a = 1\n[b]\nc = \"x\"\nd = 2026-11-26T10:00:00Z\ne = [1.5, true]")"#,
            r#"#{"a": 1, "b": #{"c": "x", "d": "2026-11-26T10:00:00Z", "e": [1.5, true]}}"#,
        ),
        (
            r#"to_toml(#{name: "shop", db: #{pool: 5}, at: from_unix(0)})"#,
            "at = \"1970-01-01T00:00:00Z\"\nname = \"shop\"\n\n[db]\npool = 5\n",
        ),
        (
            r#"let m = #{a: [1, 2], b: #{c: "x"}}; parse_toml(to_toml(m)) == m"#,
            "true",
        ),
        (
            r#"parse_yaml("a: 1\nb: [x, y]\nc: {d: true, e: null}")"#,
            r#"#{"a": 1, "b": ["x", "y"], "c": #{"d": true, "e": ()}}"#,
        ),
        (r#"parse_yaml("- 1\n- two")"#, r#"[1, "two"]"#),
        (
            r#"to_yaml(#{a: 1, b: ["x", ()], t: from_unix(0)})"#,
            "a: 1\nb:\n- x\n- null\nt: 1970-01-01T00:00:00Z\n",
        ),
        (
            r#"let m = #{a: [1, 2.5, "x"], b: #{c: true}}; parse_yaml(to_yaml(m)) == m"#,
            "true",
        ),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn bad_input_is_an_error_that_says_why() {
    for (expr, message) in [
        (
            r#"parse_csv("a,b\n1,2,3")"#,
            "parse_csv: CSV error: record 1 (line: 2, byte: 4): found record with 3 fields, but the previous record has 2 fields",
        ),
        (
            r#"parse_csv("a,a\n1,2")"#,
            "parse_csv: the header names column `a` twice (columns 1 and 2)",
        ),
        (
            r#"parse_csv("a", #{sep: ";"})"#,
            "csv: unknown option `sep` (the options are delimiter and header)",
        ),
        (
            r#"parse_csv("a", #{delimiter: "ab"})"#,
            "csv: the delimiter is one ASCII character, not \"ab\"",
        ),
        (
            r#"parse_csv("a", #{header: "no"})"#,
            "csv: `header` is true or false, not a string",
        ),
        (
            "to_csv([1])",
            "to_csv: row 1 is an int, not a map or an array",
        ),
        (
            r#"base64_decode("a$")"#,
            "base64_decode: '$' (at offset 1) is not a base64 character",
        ),
        (
            r#"base64_decode("abcde")"#,
            "base64_decode: the text is cut short",
        ),
        (
            "base64_encode(5)",
            "base64_encode takes a string or a blob, not an int",
        ),
        (
            r#"hex_decode("abc")"#,
            "hex_decode: an odd number of digits (3)",
        ),
        (r#"hex_decode("zz")"#, "hex_decode: 'z' is not a hex digit"),
        ("sha256(5)", "sha256 takes a string or a blob, not an int"),
        (
            r#"sha256_file("missing.bin")"#,
            "sha256_file: cannot read `missing.bin`: no such file or directory",
        ),
        (
            r#"md5_file("data")"#,
            "md5_file: cannot read `data`: it is a directory",
        ),
        (
            r#"parse_toml("a = ")"#,
            "parse_toml: TOML parse error at line 1, column 5",
        ),
        (
            "to_toml(#{a: ()})",
            "to_toml: TOML has no () (null): leave the key out instead",
        ),
        (
            r#"parse_yaml("a: [")"#,
            "parse_yaml: did not find expected node content at line 2 column 1",
        ),
    ] {
        Test::new()
            .file("data/x", "")
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(&format!("-e:1:1: {message}"))
            .run();
    }
}
