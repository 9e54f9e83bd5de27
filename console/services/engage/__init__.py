"""The engagement officer's handheld (Step 16): pairing phones to officers, dispatching confirmed
incidents to them, and taking their outcomes back into the record. Qt-free: the web service in
console/handheld/ and the console's windows both call these."""
