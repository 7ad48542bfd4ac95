#!/usr/bin/env python3
"""Identity in a real Chromium, driven by Selenium: sign up, sign in, turn on two-factor sign-in from the QR page,
sign out and in again with a TOTP code, use the admin and messaging pages (the template editor's live preview),
invite a user who accepts from the mailed link and signs in.

Usage: identity_test.py BASE_URL MAIL_DIR   (a running `inopsio serve`; MAIL_DIR is its <data_dir>/mail)
"""
import base64
import email
import glob
import hashlib
import hmac
import os
import re
import secrets
import struct
import sys
import time
from urllib.parse import urlparse
from email import policy

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait as _WebDriverWait

PASSWORD = "correct horse battery"


def WebDriverWait(browser, timeout):
    """A wait that treats any WebDriver error as "not yet": a page being replaced while it is read raises
    errors other than "no such element" ("node does not belong to the document", stale elements)."""
    return _WebDriverWait(browser, timeout, ignored_exceptions=[WebDriverException])


def step(message):
    print(f"browser: {message}", flush=True)


def totp(secret, offset=0):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(time.time() // 30) + offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[start:start + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def driver():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        options.add_argument(argument)
    binary = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    if os.path.exists(binary):
        options.binary_location = binary
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def fill(browser, values):
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def click(browser, element):
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def submit(browser):
    click(browser, browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))


def wait_for_heading(browser, text):
    try:
        WebDriverWait(browser, 60).until(conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))
    except Exception:
        heading = browser.find_elements(By.TAG_NAME, "h1")
        raise AssertionError(f"expected a page titled {text!r} at {browser.current_url}, got "
                             f"{heading[0].text if heading else 'no h1'!r}") from None


def mailed_link(mail_dir, recipient, path):
    deadline = time.time() + 60
    while time.time() < deadline:
        for name in sorted(glob.glob(os.path.join(mail_dir, "*.eml")), reverse=True):
            message = email.message_from_binary_file(open(name, "rb"), policy=policy.default)
            if recipient in message["To"]:
                text = message.get_body(preferencelist=("plain",)).get_content()
                match = re.search(r"https?://\S*" + re.escape(path) + r"\S*", text)
                if match:
                    return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail with {path} for {recipient}")


def main(base, mail_dir):
    slug = "web-" + secrets.token_hex(3)
    admin = f"ada@{slug}.example"
    browser = driver()
    try:
        browser.get(f"{base}/signup")
        fill(browser, {"tenant_name": "Web Test Ltd", "tenant_slug": slug, "name": "Ada Lovelace", "email": admin,
                       "password": PASSWORD})
        submit(browser)
        wait_for_heading(browser, "Sign in")
        assert browser.find_element(By.NAME, "tenant").get_attribute("value") == slug
        fill(browser, {"email": admin, "password": PASSWORD})
        submit(browser)
        wait_for_heading(browser, "Your account")
        assert admin in browser.page_source
        step("signed up and signed in through the OAuth flow")

        browser.get(f"{base}/account/security")
        click(browser, browser.find_element(By.ID, "start-mfa"))
        WebDriverWait(browser, 60).until(conditions.presence_of_element_located((By.ID, "totp-secret")))
        assert browser.find_element(By.CSS_SELECTOR, ".qr svg").get_attribute("role") == "img"
        secret = browser.find_element(By.ID, "totp-secret").text.strip()
        fill(browser, {"code": totp(secret)})
        submit(browser)
        WebDriverWait(browser, 60).until(conditions.presence_of_element_located((By.ID, "backup-codes")))
        codes = browser.find_elements(By.CSS_SELECTOR, "#backup-codes li")
        assert len(codes) == 10, len(codes)
        step("enrolled two-factor sign-in from the QR page; 10 backup codes shown")

        browser.get(f"{base}/account")
        click(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))
        # Sign-out answers with a redirect to the start page; wait for it before navigating on.
        WebDriverWait(browser, 60).until(lambda current: urlparse(current.current_url).path == "/")
        assert not any(cookie["name"] == "inopsio_at" for cookie in browser.get_cookies())
        browser.get(f"{base}/login?tenant={slug}")
        wait_for_heading(browser, "Sign in")
        fill(browser, {"email": admin, "password": PASSWORD})
        submit(browser)
        WebDriverWait(browser, 60).until(conditions.presence_of_element_located((By.ID, "signin-error")))
        # The code used to confirm is spent; the next time step's code is accepted (one step of drift allowed).
        fill(browser, {"email": admin, "password": PASSWORD, "totp_code": totp(secret, offset=1)})
        submit(browser)
        wait_for_heading(browser, "Your account")
        step("signed out and in again with password and TOTP")

        for page, heading in [("roles", "Roles"), ("sessions", "Sessions"), ("oauth-clients", "OAuth clients"),
                              ("providers", "Identity providers")]:
            browser.get(f"{base}/admin/{page}")
            wait_for_heading(browser, heading)
        browser.get(f"{base}/admin/api-keys")
        fill(browser, {"name": "CI reader", "permissions": "identity.users:read"})
        submit(browser)
        secret = WebDriverWait(browser, 60).until(conditions.presence_of_element_located((By.ID, "new-secret"))).text
        assert secret.startswith("inop_"), secret
        browser.get(f"{base}/admin/api-keys")
        assert secret not in browser.page_source, "the secret is shown once"
        browser.get(f"{base}/admin/settings")
        fill(browser, {"theme_colour": "#123456"})
        submit(browser)
        WebDriverWait(browser, 60).until(conditions.presence_of_element_located((By.CSS_SELECTOR, ".alert-success")))
        browser.get(f"{base}/admin/audit")
        assert "The audit chain verifies" in browser.page_source
        assert "api_key.created" in browser.page_source and "tenant.updated" in browser.page_source
        step("admin pages: roles, sessions, clients, providers, an API key shown once, settings saved, audit intact")

        browser.get(f"{base}/messaging/templates")
        wait_for_heading(browser, "Templates")
        fill(browser, {"name": "Welcome", "key": "welcome", "subject": "Hi {{name}}", "text": "Hello {{name}}"})
        submit(browser)
        wait_for_heading(browser, "Welcome")
        preview_subject = (By.CSS_SELECTOR, "[data-preview-subject]")
        assert browser.find_element(*preview_subject).text == "Hi Preview"
        # The preview follows the fields as they are typed, without saving.
        fill(browser, {"subject": "Hello {{name}}!", "html": "<p>Dear {{name}}</p>"})
        WebDriverWait(browser, 60).until(conditions.text_to_be_present_in_element(preview_subject, "Hello Preview!"))
        WebDriverWait(browser, 60).until(
            lambda current: "Dear Preview" in (current.find_element(By.CSS_SELECTOR, "[data-preview-frame]")
                                               .get_attribute("srcdoc") or ""))
        fill(browser, {"subject": "Hello {{#name}}"})
        WebDriverWait(browser, 60).until(
            conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-preview-error]"), "subject"))
        fill(browser, {"subject": "Hello {{name}}!"})
        submit(browser)
        WebDriverWait(browser, 60).until(conditions.presence_of_element_located((By.CSS_SELECTOR, ".alert-success")))
        for page, heading in [("suppressions", "Suppression list"), ("webhooks", "Webhooks")]:
            browser.get(f"{base}/messaging/{page}")
            wait_for_heading(browser, heading)
        step("messaging: template created, live preview followed typing and showed a syntax error, saved")

        # A list through the API with the session cookie (there is no list page yet), then a campaign on the page.
        list_id = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const post = (url, body) => fetch(url, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}).then(r => r.json());
            post("/api/v1/messaging/lists", {name: "Friends"}).then(list =>
                post(`/api/v1/messaging/lists/${list.id}/members`, {contacts: [
                    {email: "a@example.com", name: "A"}, {email: "b@example.com", name: "B"},
                    {email: "c@example.com", name: "C"}]}).then(() => done(list.id)));
        """)
        assert list_id, list_id
        browser.get(f"{base}/messaging/campaigns")
        wait_for_heading(browser, "Campaigns")
        fill(browser, {"name": "Launch"})
        submit(browser)
        wait_for_heading(browser, "Launch")
        delivered = (By.CSS_SELECTOR, "[data-count='delivered'] dd")
        assert browser.find_element(*delivered).text == "0"
        click(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/send'] button"))
        # The page follows the sending live (progress events, then a reload when the campaign is sent).
        WebDriverWait(browser, 90).until(conditions.text_to_be_present_in_element(delivered, "3"))
        WebDriverWait(browser, 90).until(
            conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-status]"), "Sent"))
        step("messaging: a campaign to a list of 3 sent from its page, which followed the results live")

        # The same without server-sent events (a proxy that buffers them, say): the page catches up from the API.
        # This is also what covers a campaign sent before the page's stream opened.
        blocked = browser.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": "window.EventSource = undefined;"})
        browser.get(f"{base}/messaging/campaigns")
        wait_for_heading(browser, "Campaigns")
        fill(browser, {"name": "Relaunch"})
        submit(browser)
        wait_for_heading(browser, "Relaunch")
        assert browser.execute_script("return window.EventSource === undefined")
        click(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/send'] button"))
        WebDriverWait(browser, 90).until(conditions.text_to_be_present_in_element(delivered, "3"))
        WebDriverWait(browser, 90).until(
            conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-status]"), "Sent"))
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": blocked["identifier"]})
        step("messaging: the same page without server-sent events caught up from the API")

        invitee = f"grace@{slug}.example"
        browser.get(f"{base}/admin/users")
        fill(browser, {"email": invitee, "name": "Grace Hopper"})
        submit(browser)
        WebDriverWait(browser, 60).until(conditions.text_to_be_present_in_element((By.ID, "users"), invitee))
        link = mailed_link(mail_dir, invitee, "/invitations/accept")
        browser.delete_all_cookies()
        browser.get(link)
        wait_for_heading(browser, "Join your team")
        fill(browser, {"password": "graces own secret"})
        submit(browser)
        wait_for_heading(browser, "Sign in")
        fill(browser, {"email": invitee, "password": "graces own secret"})
        submit(browser)
        wait_for_heading(browser, "Your account")
        assert invitee in browser.page_source
        step("invited a user who accepted from the mailed link and signed in")
        print("browser: all checks passed")
    finally:
        browser.quit()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
