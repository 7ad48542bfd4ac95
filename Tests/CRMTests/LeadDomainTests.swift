import Kernel
import Testing

@testable import CRM

@Suite struct LeadStatusMachineTests {
    @Test func newLeadMayBeContactedOrDropped() {
        #expect(LeadStatusMachine.allowed(from: .new) == [.contacted, .unqualified])
    }

    @Test func newLeadCannotBeQualifiedWithoutContact() {
        #expect(!LeadStatusMachine.canMove(from: .new, to: .qualified))
    }

    @Test func contactedLeadIsQualifiedOrNot() {
        #expect(LeadStatusMachine.allowed(from: .contacted) == [.qualified, .unqualified])
    }

    @Test func unqualifiedLeadMayBeContactedAgain() {
        #expect(LeadStatusMachine.allowed(from: .unqualified) == [.contacted])
    }

    @Test func qualifiedLeadCannotGoBack() {
        for status in LeadStatus.allCases where status != .qualified {
            #expect(!LeadStatusMachine.canMove(from: .qualified, to: status))
        }
    }

    @Test func stayingIsAlwaysAllowed() {
        for status in LeadStatus.allCases { #expect(LeadStatusMachine.canMove(from: status, to: status)) }
    }

    @Test func noLeadReturnsToNew() {
        for status in LeadStatus.allCases where status != .new {
            #expect(!LeadStatusMachine.canMove(from: status, to: .new))
        }
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+49 30 1234567", "+49301234567"), ("+1 (415) 555-0100", "+14155550100"), ("0044 20 7946 0958", "+442079460958"),
        ("+33.1.23.45.67.89", "+33123456789"),
    ])
    func internationalNumbersAreNormalised(_ text: String, _ expected: String) {
        #expect(PhoneNumber.e164(text) == expected)
    }

    @Test(arguments: ["030 1234567", "+0 301234567", "+49 30 12ab", "+1234", "+1234567890123456", "", "++49301234567"])
    func otherTextIsRefused(_ text: String) {
        #expect(PhoneNumber.e164(text) == nil)
    }
}

@Suite struct CustomFieldTests {
    static func field(_ kind: CustomField.Kind, options: [String] = []) -> CustomField {
        CustomField(id: .generate(), entity: .lead, key: "k", label: "K", kind: kind, options: options, createdAt: .now)
    }

    @Test func valuesAreCheckedByType() {
        #expect(Self.field(.number).check(.integer(3), field: "f") == nil)
        #expect(Self.field(.number).check(.string("3"), field: "f") != nil)
        #expect(Self.field(.boolean).check(.bool(true), field: "f") == nil)
        #expect(Self.field(.date).check(.string("2026-02-29"), field: "f") != nil)
        #expect(Self.field(.date).check(.string("2028-02-29"), field: "f") == nil)
        #expect(Self.field(.select, options: ["a", "b"]).check(.string("c"), field: "f") != nil)
        #expect(Self.field(.select, options: ["a", "b"]).check(.string("b"), field: "f") == nil)
    }

    @Test func keysAreLowerCaseIdentifiers() {
        #expect(CustomField.isValidKey("budget_2026"))
        #expect(!CustomField.isValidKey("2budget"))
        #expect(!CustomField.isValidKey("Budget"))
        #expect(!CustomField.isValidKey("bud-get"))
        #expect(!CustomField.isValidKey(""))
    }
}
