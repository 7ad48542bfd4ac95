/// Phone numbers in E.164 form (`+4930123456`): what leads are stored with and compared by.
package enum PhoneNumber {
    /// `text` in E.164 form, or `nil` when it is not an international number. Spaces, dots, hyphens and
    /// parentheses are dropped and a leading `00` becomes `+`; the result must be `+`, a non-zero digit and 7 to 15
    /// digits in all.
    package static func e164(_ text: String) -> String? {
        var digits = ""
        var plus = false
        for (index, character) in text.trimmingWhitespace().enumerated() {
            if character == "+" && index == 0 {
                plus = true
            } else if character.isASCII && character.isNumber {
                digits.append(character)
            } else if !" .-()/".contains(character) {
                return nil
            }
        }
        if !plus && digits.hasPrefix("00") {
            digits.removeFirst(2)
            plus = true
        }
        guard plus, (7...15).contains(digits.count), digits.first != "0" else { return nil }
        return "+" + digits
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<end]
    }
}
