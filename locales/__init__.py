"""The gettext catalogs (`<language>/LC_MESSAGES/messages.po`), shipped with the code."""
