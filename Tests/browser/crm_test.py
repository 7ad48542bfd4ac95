#!/usr/bin/env python3
"""The CRM web app in a real Chromium, driven by Selenium: create a lead, qualify it, convert it, move the deal
through the pipeline board (dragged, and from the keyboard) to Won while a second tab follows live, note on the
timeline, save a view, use a bulk action, import a CSV file (dry run, then the import), read the analytics, and
check a phone-width screen.

Usage: crm_test.py BASE_URL   (a running `inopsio serve`)
"""
import os
import secrets
import sys
import tempfile
import time

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from identity_test import PASSWORD, click, driver, fill, step, submit


def wait(browser, condition, timeout=60):
    # A page replaced while it is read raises all kinds of WebDriver errors ("node does not belong to the
    # document", stale elements): they mean "not yet", as a missing element does.
    return WebDriverWait(browser, timeout, ignored_exceptions=[WebDriverException]).until(condition)


def wait_for_heading(browser, text):
    try:
        wait(browser, conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))
    except Exception:
        raise AssertionError(f"expected a page titled {text!r} at {browser.current_url}") from None


def present(browser, selector):
    return wait(browser, conditions.presence_of_element_located((By.CSS_SELECTOR, selector)))


def import_state(browser):
    """The import page's status, whether it shows the mapping form, and its count of created records, read in one
    script from one document (None while the page reloads). Read one by one, two reads could come from the page
    before and after a reload: the dry run's "done" with the import's fresh counts of 0 (seen under load)."""
    try:
        state = browser.execute_script(
            """
            var status = document.getElementById("import-status");
            if (!status || document.readyState !== "complete") return null;
            var created = status.querySelector("[data-count='created']");
            return [status.getAttribute("data-status"), !!document.getElementById("mapping-form"),
                    created ? created.textContent : null];
            """)
        return tuple(state) if state else None
    except WebDriverException:  # the page is being replaced
        return None


def card_stage(browser, deal):
    return browser.find_element(By.CSS_SELECTOR, f"[data-deal='{deal}']").get_attribute("data-stage")


def column_of(browser, name):
    for section in browser.find_elements(By.CSS_SELECTOR, "[data-column]"):
        if section.find_element(By.TAG_NAME, "h2").text.split(" ")[0] == name:
            return section.get_attribute("data-column")
    raise AssertionError(f"no stage {name}")


# HTML5 drag and drop as a person's mouse would fire it (WebDriver's own drag does not fire these events).
DRAG = """
const [card, target] = arguments;
const data = new DataTransfer();
const fire = (node, type) => node.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
fire(card, "dragstart"); fire(target, "dragenter"); fire(target, "dragover"); fire(target, "drop"); fire(card, "dragend");
"""


def main(base):
    slug = "crm-" + secrets.token_hex(3)
    admin = f"ada@{slug}.example"
    browser = driver()
    try:
        browser.get(f"{base}/signup")
        fill(browser, {"tenant_name": "CRM Test Ltd", "tenant_slug": slug, "name": "Ada Lovelace", "email": admin,
                       "password": PASSWORD})
        submit(browser)
        wait_for_heading(browser, "Sign in")
        fill(browser, {"email": admin, "password": PASSWORD})
        submit(browser)
        wait_for_heading(browser, "Your account")
        step("signed up and in")

        browser.get(f"{base}/crm/leads")
        wait_for_heading(browser, "Leads")
        assert browser.find_element(By.ID, "records-empty")
        fill(browser, {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example",
                       "phone": "+1 202 555 0100", "company": "Navy"})
        click(browser, browser.find_element(By.CSS_SELECTOR, "#create-form button[type=submit]"))
        wait_for_heading(browser, "Grace Hopper")
        assert browser.find_element(By.CSS_SELECTOR, "[data-field='phone']").text == "+12025550100"
        step("created a lead from the leads page")

        # A bad value comes back next to its field.
        browser.get(f"{base}/crm/leads")
        fill(browser, {"first_name": "Bad", "email": "not-an-email"})
        click(browser, browser.find_element(By.CSS_SELECTOR, "#create-form button[type=submit]"))
        present(browser, "#create-form [aria-invalid='true'][name='email']")
        step("a refused field is marked with the API's message")

        browser.get(f"{base}/crm/leads?q=grace")
        click(browser, browser.find_element(By.LINK_TEXT, "Grace Hopper"))
        wait_for_heading(browser, "Grace Hopper")
        for label in ["Mark contacted", "Mark qualified"]:
            button = wait(browser, conditions.element_to_be_clickable((By.XPATH, f"//button[text()='{label}']")))
            click(browser, button)
            wait(browser, conditions.staleness_of(button))
        assert browser.find_element(By.CSS_SELECTOR, "[data-field='status']").text == "qualified"
        # A note on its timeline.
        fill(browser, {"subject": "First call", "body": "Interested in COBOL training"})
        Select(browser.find_element(By.NAME, "type")).select_by_value("call")
        click(browser, browser.find_element(By.CSS_SELECTOR, "#activity-form button[type=submit]"))
        wait(browser, conditions.text_to_be_present_in_element((By.ID, "timeline"), "First call"))
        # A file on the lead: attached, on its timeline, downloadable, removed.
        with tempfile.NamedTemporaryFile("wb", prefix="proposal-", suffix=".pdf", delete=False) as handle:
            handle.write(b"%PDF-1.4\n%%EOF\n")
            pdf = handle.name
        browser.find_element(By.ID, "attach-file").send_keys(pdf)
        click(browser, browser.find_element(By.CSS_SELECTOR, "#attach-form button[type=submit]"))
        link = wait(browser, conditions.presence_of_element_located((By.CSS_SELECTOR, "#attachments a[download]")))
        assert link.text == os.path.basename(pdf), link.text
        assert "File attached" in browser.find_element(By.ID, "timeline").text
        href = link.get_attribute("href")
        fetched = browser.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(function (r) { return r.text().then(function (t) {"
            " done([r.status, r.headers.get('content-disposition'), t]); }); });", href)
        assert fetched[0] == 200 and fetched[1].startswith("attachment;") and fetched[2].startswith("%PDF"), fetched
        click(browser, browser.find_element(By.CSS_SELECTOR, "[data-remove-attachment]"))
        wait(browser, conditions.presence_of_element_located((By.CSS_SELECTOR, "p#attachments.empty-state")))
        assert "File removed" in browser.find_element(By.ID, "timeline").text
        step("attached a PDF to the lead, downloaded it, removed it (both on the timeline)")
        fill(browser, {"amount": "12500.50", "currency": "USD", "name": "Navy training"})
        click(browser, browser.find_element(By.CSS_SELECTOR, "#convert-form button[type=submit]"))
        wait_for_heading(browser, "Navy training")
        deal = browser.current_url.rstrip("/").split("/")[-1]
        assert "12500.50 USD" in browser.find_element(By.CSS_SELECTOR, "[data-field='value']").text
        step("qualified the lead, noted a call on its timeline, converted it into a deal")

        browser.get(f"{base}/crm/pipeline")
        board = present(browser, "[data-board]")
        wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "[data-board]").get_attribute("data-live-open") == "true")
        # A second tab follows the board live.
        first_tab = browser.current_window_handle
        browser.switch_to.new_window("tab")
        watcher = browser.current_window_handle
        browser.get(f"{base}/crm/pipeline")
        present(browser, f"[data-deal='{deal}']")
        wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "[data-board]").get_attribute("data-live-open") == "true")
        browser.switch_to.window(first_tab)
        proposal = column_of(browser, "Proposal")
        browser.execute_script(DRAG, browser.find_element(By.CSS_SELECTOR, f"[data-deal='{deal}']"),
                               browser.find_element(By.CSS_SELECTOR, f"[data-column='{proposal}']"))
        wait(browser, lambda b: card_stage(b, deal) == proposal)
        step("dragged the deal to Proposal")
        browser.switch_to.window(watcher)
        wait(browser, lambda b: card_stage(b, deal) == proposal, timeout=30)
        step("the second tab followed the move live")
        browser.switch_to.window(first_tab)
        won = column_of(browser, "Won")
        picker = browser.find_element(By.CSS_SELECTOR, f"[data-move-select='{deal}']")
        picker.send_keys(Keys.END)
        Select(picker).select_by_value(won)
        button = browser.find_element(By.CSS_SELECTOR, f"[data-move-button='{deal}']")
        button.send_keys(Keys.ENTER)
        wait(browser, lambda b: card_stage(b, deal) == won)
        browser.get(f"{base}/crm/deals/{deal}")
        assert browser.find_element(By.CSS_SELECTOR, "[data-field='status']").text == "won"
        step("moved the deal to Won from the keyboard; its page says won")

        browser.get(f"{base}/crm/analytics")
        wait_for_heading(browser, "Analytics")
        assert browser.find_element(By.CSS_SELECTOR, "[data-kpi='win-rate']").text == "100 %"
        assert browser.find_element(By.CSS_SELECTOR, "#chart-value svg").get_attribute("role") == "img"
        step("analytics: win rate and SVG charts")

        # The import wizard: a dry run, then the import.
        rows = ["First name,Last name,E-mail,Company"]
        rows += [f"Person,{index},person{index}@import.example,Acme" for index in range(30)]
        rows += ["Broken,Row,not-an-email,Acme"]
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
            handle.write("\n".join(rows) + "\n")
            path = handle.name
        browser.get(f"{base}/crm/import")
        wait_for_heading(browser, "Import")
        browser.find_element(By.ID, "import-file").send_keys(path)
        click(browser, browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]"))
        wait(browser, conditions.presence_of_element_located((By.ID, "mapping-form")))
        assert Select(browser.find_element(By.CSS_SELECTOR, "[data-column='E-mail']")).first_selected_option.get_attribute("value") == "email"
        click(browser, browser.find_element(By.ID, "dry-run"))
        # Done, and a dry run: the mapping form is back for the import.
        wait(browser, lambda b: (import_state(b) or ())[:2] == ("done", True))
        assert browser.find_element(By.CSS_SELECTOR, "[data-count='created']").text == "30"
        assert browser.find_element(By.CSS_SELECTOR, "[data-count='rejected']").text == "1"
        assert "email" in browser.find_element(By.ID, "import-errors").text
        step("import: dry run reported 30 to create and the bad row")
        click(browser, browser.find_element(By.ID, "run-import"))

        def imported(b):
            state = import_state(b)
            if not state or state[:2] != ("done", False):
                return False
            return state[2]

        # The page reloads on its own as the job goes; the counts are read from the finished page.
        created = wait(browser, imported)
        if created != "30":
            counts = {cell.get_attribute("data-count"): cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "[data-count]")}
            import_id = browser.find_element(By.ID, "import-status").get_attribute("data-import")
            browser.get(f"{base}/api/v1/crm/imports/{import_id}")
            raise AssertionError(f"created {created}; all counts {counts}; the import: {browser.find_element(By.TAG_NAME, 'body').text[:1500]}")
        browser.get(f"{base}/crm/leads?q=person&sort=name")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#records tbody tr")) == 30
        step("import: 30 leads imported")
        os.unlink(path)

        # A saved view and a bulk action on it.
        fill(browser, {"name": "Imported people"})
        click(browser, browser.find_element(By.CSS_SELECTOR, "[data-save-view] button[type=submit]"))
        wait(browser, conditions.presence_of_element_located((By.LINK_TEXT, "Imported people")))
        click(browser, browser.find_element(By.CSS_SELECTOR, "[data-select-all]"))
        Select(browser.find_element(By.ID, "bulk-action")).select_by_value("tag")
        browser.find_element(By.CSS_SELECTOR, "[data-bulk] [name='tag']").send_keys("imported")
        click(browser, browser.find_element(By.CSS_SELECTOR, "[data-bulk] button[type=submit]"))
        wait(browser, conditions.staleness_of(browser.find_element(By.ID, "records")))
        browser.get(f"{base}/crm/leads?tag=imported")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#records tbody tr")) == 30
        step("saved a view and tagged its 30 leads in one bulk action")

        # A phone-width screen: nothing wider than the screen but the scrolling table itself.
        browser.set_window_size(390, 844)
        for page in ["leads", "pipeline", "analytics", "import"]:
            browser.get(f"{base}/crm/{page}")
            present(browser, "h1")
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{page} is {overflow}px wider than a phone screen"
        step("phone width: no page wider than the screen")
        print("browser: all checks passed", flush=True)
    except Exception:
        print(f"browser: failed at {browser.current_url}", flush=True)
        raise
    finally:
        browser.quit()


if __name__ == "__main__":
    main(sys.argv[1])
