import Gateway
import HTTPTypes
import Kernel
import Testing

/// One request for a built-in rule: an attack it must block or a benign request the whole rule set must pass.
struct InspectionSample: Sendable, CustomTestStringConvertible {
    let ruleID: String
    let label: String
    let input: InspectionInput

    var testDescription: String { "\(ruleID): \(label)" }

    static func query(_ ruleID: String, _ raw: String) -> InspectionSample {
        InspectionSample(
            ruleID: ruleID, label: "?\(raw)", input: InspectionInput(path: "/api/v1/crm/leads", query: raw))
    }

    static func path(_ ruleID: String, _ path: String) -> InspectionSample {
        InspectionSample(ruleID: ruleID, label: path, input: InspectionInput(path: path))
    }

    static func body(_ ruleID: String, _ text: String) -> InspectionSample {
        InspectionSample(
            ruleID: ruleID, label: "body \(text)",
            input: InspectionInput(method: .post, path: "/api/v1/crm/leads", body: ["notes": .string(text)]))
    }

    static func userAgent(_ ruleID: String, _ agent: String) -> InspectionSample {
        InspectionSample(
            ruleID: ruleID, label: "UA \(agent)",
            input: InspectionInput(path: "/api/v1/crm/leads", headers: [.userAgent: agent]))
    }
}

/// Attack and benign samples for every built-in rule, at least two of each.
enum InspectionSamples {
    static let attacks: [InspectionSample] = [
        .query("sqli-union-select", "id=1 UNION SELECT username, password FROM users"),
        .query("sqli-union-select", "id=-1%27%20union%20all%20select%201,2,3--"),
        .body("sqli-union-select", "1/**/UNION/**/SELECT/**/password/**/FROM/**/users"),
        .query("sqli-union-select", "id=1%2520UNION%2520SELECT%2520null"),
        .query("sqli-tautology", "user=admin' OR '1'='1"),
        .query("sqli-tautology", "id=1 or 1=1"),
        .body("sqli-tautology", "x\" or \"\"=\""),
        .query("sqli-tautology", "name=%27%20or%20%27a%27%3D%27a"),
        .body("sqli-comment-truncation", "admin'--"),
        .query("sqli-comment-truncation", "user=admin'%20%23"),
        .query("sqli-comment-truncation", "id=1') -- -"),
        .query("sqli-inline-comment", "id=1/*!50000UNION*/"),
        .body("sqli-inline-comment", "admin'/**/or/**/1=1"),
        .query("sqli-inline-comment", "q=select/*x*/1"),
        .query("sqli-stacked-query", "id=1; DROP TABLE users"),
        .body("sqli-stacked-query", "'; drop table leads;--"),
        .query("sqli-stacked-query", "id=1);shutdown--"),
        .query("sqli-time-based", "id=1 AND SLEEP(5)"),
        .body("sqli-time-based", "1' and benchmark(5000000,md5(1))#"),
        .query("sqli-time-based", "id=1;select pg_sleep(10)"),
        .body("sqli-time-based", "'; waitfor delay '0:0:5'--"),
        .query("sqli-schema-probe", "id=1 union select table_name from information_schema.tables"),
        .body("sqli-schema-probe", "select * from pg_catalog.pg_user"),
        .query("sqli-schema-probe", "q=exec xp_cmdshell 'dir'"),
        .body("xss-script-tag", "<script>alert(1)</script>"),
        .query("xss-script-tag", "q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"),
        .body("xss-script-tag", "&lt;ScRiPt src=//evil.example&gt;"),
        .query("xss-script-uri", "next=javascript:alert(document.domain)"),
        .body("xss-script-uri", "<a href=\"JaVaScRiPt:alert(1)\">x</a>"),
        .query("xss-script-uri", "u=java%0ascript:alert(1)"),
        .body("xss-script-uri", "&#106;avascript:alert(1)"),
        .query("xss-script-uri", "u=data:text/html;base64,PHNjcmlwdD4="),
        .body("xss-event-handler", "<img src=x onerror=alert(1)>"),
        .query("xss-event-handler", "q=%22%3E%3Csvg/onload=alert(1)%3E"),
        .body("xss-event-handler", "<body onload=\"steal()\">"),
        .body("xss-event-handler", "<a href=# OnMouseOver='x()'>hi</a>"),
        .body("xss-embedding-tag", "<iframe src=https://evil.example></iframe>"),
        .query("xss-embedding-tag", "q=%3Cobject%20data=x%3E"),
        .body("xss-embedding-tag", "<meta http-equiv=\"refresh\" content=\"0;url=x\">"),
        .body("xss-dom-access", "\"+document.cookie+\""),
        .query("xss-dom-access", "q=alert(1)"),
        .body("xss-dom-access", "String.fromCharCode(88,83,83)"),
        .body("xss-dom-access", "window.location='https://evil.example'"),
        .path("traversal-dot-segment", "/api/v1/files/../../etc/passwd"),
        .path("traversal-dot-segment", "/static/..%2f..%2fsecret"),
        .path("traversal-dot-segment", "/static/%2e%2e/%2e%2e/secret"),
        .query("traversal-dot-segment", "file=..\\..\\windows\\win.ini"),
        .path("traversal-dot-segment", "/a/%252e%252e%252fsecret"),
        .query("traversal-sensitive-file", "file=/etc/passwd"),
        .path("traversal-sensitive-file", "/.git/config"),
        .path("traversal-sensitive-file", "/.env"),
        .query("traversal-sensitive-file", "f=C:%5Cwindows%5Csystem32%5Cdrivers"),
        .path("traversal-null-byte", "/files/report.pdf%00.jpg"),
        .query("traversal-null-byte", "file=shell.php%00.png"),
        .query("traversal-null-byte", "file=a%2500b"),
        .userAgent("scanner-user-agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"),
        .userAgent("scanner-user-agent", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)"),
        .userAgent(
            "scanner-user-agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"),
        .userAgent("scanner-user-agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"),
        .userAgent("scanner-user-agent", "Mozilla/5.0 zgrab/0.x"),
        .userAgent("scanner-user-agent", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"),
        .userAgent(
            "scanner-user-agent", "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)"),
        .userAgent("scanner-user-agent", "gobuster/3.6"),
        .userAgent("scanner-user-agent", "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)"),
        .userAgent("scanner-user-agent", "Mozilla/5.0 (Windows NT 10.0) Acunetix-Product"),
        .userAgent("scanner-user-agent", "Mozilla/5.0 (compatible; Nessus)"),
        .userAgent("scanner-user-agent", "Mozilla/5.0 (compatible; OpenVAS-VT)"),
        .userAgent("scanner-user-agent", "w3af.org"),
    ]

    static let benign: [InspectionSample] = [
        .body("sqli-union-select", "The union selected its new representative"),
        .body("sqli-union-select", "European Union: selection of suppliers"),
        .query("sqli-union-select", "q=union&sort=-created_at"),
        .body("sqli-tautology", "Meeting with O'Brien or Smith at 10"),
        .body("sqli-tautology", "Customer said \"great\" and ordered 5"),
        .query("sqli-tautology", "q=O'Reilly&status=qualified"),
        .body("sqli-tautology", "Choose the 'basic' or the 'pro' plan"),
        .body("sqli-comment-truncation", "Call O'Brien -- urgent"),
        .body("sqli-comment-truncation", "Item #42 for 'ACME' costs 5"),
        .query("sqli-comment-truncation", "q=top--rated"),
        .query("sqli-inline-comment", "glob=src/*.swift"),
        .body("sqli-inline-comment", "Accept: */* is fine; see /* notes */ below"),
        .body("sqli-inline-comment", "Use path/* or file/*"),
        .body("sqli-stacked-query", "Call Bob; drop table talk for later"),
        .body("sqli-stacked-query", "Buy milk; update the CRM set-up"),
        .query("sqli-stacked-query", "q=a;b"),
        .body("sqli-time-based", "Sleep (8 hours) matters"),
        .body("sqli-time-based", "Compare to benchmark (2024, Gartner)"),
        .query("sqli-time-based", "q=sleep+well"),
        .body("sqli-schema-probe", "Our information schema doc is ready"),
        .query("sqli-schema-probe", "q=sys admin"),
        .body("sqli-schema-probe", "see sys.log for details"),
        .body("xss-script-tag", "Manuscript <draft> attached"),
        .body("xss-script-tag", "Use the JavaScript SDK"),
        .body("xss-script-tag", "a < b and c > d"),
        .body("xss-script-uri", "JavaScript: The Good Parts"),
        .body("xss-script-uri", "Skills: javascript, swift"),
        .query("xss-script-uri", "ref=https://example.com/docs/javascript-guide"),
        .body("xss-event-handler", "a < b and c > d"),
        .body("xss-event-handler", "<b>Bold</b> online=yes"),
        .body("xss-event-handler", "x<y only = z"),
        .body("xss-embedding-tag", "<objection handling> notes"),
        .body("xss-embedding-tag", "embedded <b>systems</b>"),
        .body("xss-embedding-tag", "the <meta> tag"),
        .body("xss-dom-access", "Document cookie policy v2"),
        .body("xss-dom-access", "Sign the document. Cookies are on us"),
        .body("xss-dom-access", "Please confirm (2) items"),
        .body("xss-dom-access", "Open the window. Location: Berlin"),
        .path("traversal-dot-segment", "/api/v1/crm/leads/0190f5a4-7b1c-7def-8abc-1234567890ab"),
        .body("traversal-dot-segment", "Wait... really?"),
        .body("traversal-dot-segment", "See [docs](../guide.md)"),
        .query("traversal-dot-segment", "v=1.2..3"),
        .path("traversal-sensitive-file", "/api/v1/crm/leads"),
        .query("traversal-sensitive-file", "q=etc and more"),
        .query("traversal-sensitive-file", "email=jo@mail.envoy.com"),
        .body("traversal-sensitive-file", "edit /etc/hosts on the server"),
        .query("traversal-null-byte", "discount=100%25"),
        .path("traversal-null-byte", "/api/v1/files/report.pdf"),
        .body("traversal-null-byte", "Completed 100%"),
        .userAgent(
            "scanner-user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
        ),
        .userAgent("scanner-user-agent", "curl/8.4.0"),
        .userAgent("scanner-user-agent", "Inopsio-iOS/2.1 (iPhone; iOS 17.2)"),
        .userAgent("scanner-user-agent", "okhttp/4.12.0"),
    ]
}
