from monitor.demo.run import describe, run_demo


async def test_demo_receives_the_seed_digest_by_email_and_webhook():
    result = await run_demo()
    assert len(result.smtp.mails) == 1 and len(result.webhook.hooks) == 1
    assert result.webhook.hooks[0].signature_valid
    printed = describe(result)
    assert "Subject: 1 story: at least 40,000 displaced in Syria;" in printed
    for expected in ("Figures: at least 40,000", "Destination: Moscow, Washington", "ceasefires"):
        assert expected in printed
    assert "(signature valid" in printed
