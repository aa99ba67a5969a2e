"""Rate sets: the ECB file, operator rates, what is current, conversion, quotes and staleness."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.accounts.services import require_operator
from marketplace.errors import Forbidden, Invalid, NotFound
from marketplace.money import MissingRate, Money, RateTable
from marketplace.money.models import RateSet
from marketplace.money.rates import Quote, RateOrigin, StaleRate, ensure_fresh
from marketplace.money.services import (
    RatesUnavailable,
    current_table,
    enter_rates,
    get_table,
    import_rates,
)
from marketplace.money.sources import EcbXml, RateFileInvalid, parse_ecb_xml

DATA = Path(__file__).resolve().parent / "data"
ECB_FILE = DATA / "eurofxref-daily-2022-07-08.xml"
NOW = dt.datetime(2022, 7, 9, 12, 0, tzinfo=dt.UTC)
DAY = 24 * 3600


@pytest.fixture
def operator(session: Session) -> User:
    hasher = accounts.make_password_hasher(1024, 1)
    user = accounts.register(
        session,
        email="rates-operator@example.test",
        password="tall tea kettle 42",
        name="Ops",
        hasher=hasher,
    )
    user.is_operator = True
    return user


def set_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RateSet)) or 0


def test_the_real_ecb_file_gives_31_euro_rates_of_8_july_2022() -> None:
    incoming = parse_ecb_xml(ECB_FILE.read_bytes())
    assert incoming.base == "EUR"
    assert incoming.as_of == dt.date(2022, 7, 8)
    assert len(incoming.rates) == 31
    assert incoming.rates["USD"] == Decimal("1.0163")
    assert incoming.rates["JPY"] == Decimal("138.05")
    assert "RUB" not in incoming.rates and "KZT" not in incoming.rates


def test_an_imported_set_is_current_and_can_be_read_back_by_id(session: Session) -> None:
    rate_set = import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    table = current_table(session)
    assert table.set_id == rate_set.id
    assert (table.base, table.as_of, table.source, len(table.rates)) == (
        "EUR",
        dt.date(2022, 7, 8),
        "ecb",
        31,
    )
    assert table.rates["GBP"] == Decimal("0.84585")
    session.expire_all()
    again = get_table(session, rate_set.id)
    assert again.rates == table.rates and again.as_of == table.as_of
    with pytest.raises(NotFound):
        get_table(session, "no-such-set")


def test_no_rates_at_all_is_a_clear_conflict(session: Session) -> None:
    with pytest.raises(RatesUnavailable) as raised:
        current_table(session)
    assert raised.value.status == 409 and raised.value.error_code == "rates_unavailable"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Envelope><Cube><Cube time="2022-07-08"><Cube currency="USD" rate="&lol4;"/></Cube></Cube></Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<Cube><Cube time="2022-07-08"><Cube currency="USD" rate="&xxe;"/></Cube></Cube></gesmes:Envelope>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE Envelope SYSTEM "http://attacker.example/evil.dtd">
<Envelope/>"""


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY])
def test_hostile_xml_is_refused_not_expanded(
    session: Session, tmp_path: Path, hostile: bytes
) -> None:
    path = tmp_path / "rates.xml"
    path.write_bytes(hostile)
    with pytest.raises(RateFileInvalid) as raised:
        import_rates(session, EcbXml(str(path)), NOW)
    assert raised.value.error_code == "rate_file_invalid"
    assert "DTD or entities" in str(raised.value.detail)
    assert set_count(session) == 0


def ecb(day: str, entries: str) -> bytes:
    return (
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">'
        f"<Cube><Cube time='{day}'>{entries}</Cube></Cube></gesmes:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    "data",
    [
        b"not xml at all",
        b"<html><body>Service unavailable</body></html>",
        ecb("2022-07-08", ""),
        ecb("yesterday", "<Cube currency='USD' rate='1.01'/>"),
        ecb("2022-07-08", "<Cube currency='USD' rate='-1.01'/>"),
        ecb("2022-07-08", "<Cube currency='USD' rate='0'/>"),
        ecb("2022-07-08", "<Cube currency='USD' rate='1e3'/>"),
        ecb("2022-07-08", "<Cube currency='USD' rate='NaN'/>"),
        ecb("2022-07-08", "<Cube currency='usd' rate='1.01'/>"),
        ecb("2022-07-08", "<Cube currency='USD' rate='1.01'/><Cube currency='USD' rate='1.02'/>"),
        ecb("2022-07-08", "<Cube currency='USD'/>"),
    ],
)
def test_a_file_that_is_not_a_valid_ecb_rate_file_is_refused(data: bytes) -> None:
    with pytest.raises(RateFileInvalid):
        parse_ecb_xml(data)


def test_a_history_file_gives_its_newest_day() -> None:
    data = ecb(
        "2022-07-07",
        "<Cube currency='USD' rate='1.0180'/></Cube><Cube time='2022-07-08'><Cube currency='USD' rate='1.0163'/>",
    )
    incoming = parse_ecb_xml(data)
    assert incoming.as_of == dt.date(2022, 7, 8) and incoming.rates == {"USD": Decimal("1.0163")}


def test_a_missing_file_is_a_clear_error() -> None:
    with pytest.raises(RateFileInvalid, match="No such file"):
        EcbXml("/nonexistent/eurofxref-daily.xml").fetch()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.test/rates.xml"])
def test_only_http_addresses_are_fetched(url: str) -> None:
    with pytest.raises(RateFileInvalid):
        EcbXml(url).fetch()


@pytest.fixture
def ecb_server() -> Iterator[str]:
    body = ECB_FILE.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/eurofxref-daily.xml":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_ecb_file_can_be_fetched_from_a_url(session: Session, ecb_server: str) -> None:
    rate_set = import_rates(session, EcbXml(f"{ecb_server}/eurofxref-daily.xml"), NOW)
    assert len(rate_set.rates) == 31 and rate_set.origin.endswith("/eurofxref-daily.xml")
    with pytest.raises(RateFileInvalid, match="could not be downloaded"):
        EcbXml(f"{ecb_server}/missing.xml").fetch()


def test_cny_to_kzt_goes_through_an_operator_rate_for_tenge(
    session: Session, operator: User
) -> None:
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    enter_rates(
        session,
        entered_by=operator.id,
        base="EUR",
        rates={"KZT": "489.50"},
        as_of=dt.date(2022, 7, 9),
        now=NOW,
    )
    table = current_table(session)
    assert len(table.rates) == 32
    converted = table.convert(Money.of("100.00", "CNY"), "KZT")
    # 100 CNY * 489.50 / 6.8095 = 7188.486673...
    assert converted == Money.of("7188.49", "KZT")
    quote = table.quote("CNY", "KZT")
    assert quote == Quote(
        from_currency="CNY",
        to_currency="KZT",
        rate=Decimal("71.884866730303"),
        as_of=dt.date(2022, 7, 8),
        source="ecb+operator",
        rate_set_id=table.set_id,
    )
    assert format(quote.rate, "f") == "71.884866730303"
    assert table.quote("EUR", "KZT").as_of == dt.date(2022, 7, 9)
    assert table.quote("KZT", "KZT").rate == 1


def test_a_missing_currency_pair_is_a_clear_422(session: Session) -> None:
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    table = current_table(session)
    with pytest.raises(MissingRate) as raised:
        table.convert(Money.of("100.00", "CNY"), "UZS")
    assert raised.value.status == 422 and raised.value.error_code == "rate_missing"
    assert raised.value.extra == {"currency": "UZS"}
    assert "UZS" in str(raised.value.detail)


def test_an_ecb_import_keeps_operator_rates_and_an_operator_put_keeps_ecb_rates(
    session: Session, operator: User
) -> None:
    enter_rates(
        session,
        entered_by=operator.id,
        base="EUR",
        rates={"KZT": "489.5", "UZS": "11100"},
        as_of=None,
        now=NOW,
    )
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    table = current_table(session)
    assert table.rates["KZT"] == Decimal("489.5") and table.origin("KZT") == RateOrigin(
        NOW.date(), "operator"
    )
    assert table.origin("USD") == RateOrigin(dt.date(2022, 7, 8), "ecb")
    # A new operator set replaces the operator's rates (UZS is gone), the ECB's stay.
    enter_rates(
        session, entered_by=operator.id, base="EUR", rates={"KZT": "490.1"}, as_of=None, now=NOW
    )
    table = current_table(session)
    assert table.rates["KZT"] == Decimal("490.1") and "UZS" not in table.rates
    assert table.rates["USD"] == Decimal("1.0163") and len(table.rates) == 32


def test_an_older_file_never_overrides_a_newer_operator_rate(
    session: Session, operator: User
) -> None:
    enter_rates(
        session,
        entered_by=operator.id,
        base="EUR",
        rates={"USD": "1.05"},
        as_of=dt.date(2022, 7, 9),
        now=NOW,
    )
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    table = current_table(session)
    assert table.rates["USD"] == Decimal("1.05") and table.origin("USD").source == "operator"
    enter_rates(
        session,
        entered_by=operator.id,
        base="EUR",
        rates={"KZT": "489.5"},
        as_of=dt.date(2022, 7, 9),
        now=NOW,
    )
    assert current_table(session).rates["USD"] == Decimal("1.0163")


def test_rates_under_another_base_are_re_expressed_in_the_new_base(
    session: Session, operator: User
) -> None:
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    enter_rates(
        session,
        entered_by=operator.id,
        base="USD",
        rates={"KZT": "480", "EUR": "0.98"},
        as_of=None,
        now=NOW,
    )
    table = current_table(session)
    assert table.base == "USD"
    # 1 USD = 0.98 EUR, and 1 EUR = 6.8095 CNY (ECB): 1 USD = 6.67331 CNY, dated as the ECB rate.
    assert table.rates["CNY"] == Decimal("6.67331")
    assert table.origin("CNY") == RateOrigin(dt.date(2022, 7, 8), "ecb")
    assert "USD" not in table.rates
    assert table.convert(Money.of("100", "EUR"), "KZT") == Money.of("48979.59", "KZT")


def test_only_operators_may_enter_rates(session: Session, operator: User) -> None:
    operator.is_operator = False
    with pytest.raises(Forbidden):
        enter_rates(
            session,
            entered_by=require_operator(operator).id,
            base="EUR",
            rates={"KZT": "489.5"},
            as_of=None,
            now=NOW,
        )
    assert set_count(session) == 0


@pytest.mark.parametrize(
    ("base", "rates", "as_of", "code", "field"),
    [
        ("EUR", {"XYZ": "1.5"}, None, "currency_unknown", "rates.XYZ"),
        ("XYZ", {"USD": "1.5"}, None, "currency_unknown", "base"),
        ("EUR", {"USD": "-1.5"}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"USD": "0"}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"USD": "0.000"}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"USD": "1.2e3"}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"USD": 1.5}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"USD": "1.0000000000001"}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"USD": "1" * 19}, None, "rate_invalid", "rates.USD"),
        ("EUR", {"EUR": "1"}, None, "rate_invalid", "rates.EUR"),
        ("EUR", {}, None, "rate_invalid", "rates"),
        ("EUR", {"USD": "1.1"}, dt.date(2022, 7, 10), "rate_invalid", "as_of"),
    ],
)
def test_bad_operator_rates_change_nothing(
    session: Session,
    operator: User,
    base: str,
    rates: dict,
    as_of: dt.date | None,
    code: str,
    field: str,
) -> None:
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    before = current_table(session)
    with pytest.raises(Invalid) as raised:
        enter_rates(session, entered_by=operator.id, base=base, rates=rates, as_of=as_of, now=NOW)
    assert raised.value.error_code == code and field in raised.value.errors
    assert current_table(session) == before and set_count(session) == 1


def test_a_stale_set_blocks_an_order_currency(session: Session, operator: User) -> None:
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    enter_rates(
        session, entered_by=operator.id, base="EUR", rates={"KZT": "600.4"}, as_of=None, now=now
    )
    table = current_table(session)
    ensure_fresh(table, ["KZT", "EUR"], now, 3 * DAY)
    with pytest.raises(StaleRate) as raised:
        ensure_fresh(table, ["KZT", "CNY", "USD"], now, 3 * DAY)
    assert raised.value.status == 409 and raised.value.error_code == "rate_stale"
    assert raised.value.extra == {
        "currencies": ["CNY", "USD"],
        "as_of": {"CNY": "2022-07-08", "USD": "2022-07-08"},
    }
    assert "CNY, USD" in str(raised.value.detail)
    # The catalogue may still show them, flagged.
    assert table.convert(Money.of("10", "CNY"), "KZT").currency == "KZT"
    assert "CNY" in table.stale_currencies(now, 3 * DAY) and "KZT" not in table.stale_currencies(
        now, 3 * DAY
    )
    with pytest.raises(MissingRate):
        ensure_fresh(table, ["UZS"], now, 3 * DAY)


def test_fridays_rate_is_still_fresh_on_monday_morning() -> None:
    table = RateTable("EUR", dt.date(2022, 7, 8), "ecb", {"USD": Decimal("1.0163")})
    monday_morning = dt.datetime(2022, 7, 11, 9, 0, tzinfo=dt.UTC)
    ensure_fresh(table, ["USD"], monday_morning, 3 * DAY)
    with pytest.raises(StaleRate):
        ensure_fresh(table, ["USD"], monday_morning + dt.timedelta(days=1), 3 * DAY)


rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4)


@given(
    units=st.integers(min_value=-(10**14), max_value=10**14),
    source=st.sampled_from(["EUR", "JPY", "KWD", "CNY", "UZS"]),
    target=st.sampled_from(["EUR", "JPY", "KWD", "KZT", "USD"]),
    rate_source=rates,
    rate_target=rates,
)
def test_converting_then_rounding_never_drifts_a_minor_unit_from_exact(
    units: int, source: str, target: str, rate_source: Decimal, rate_target: Decimal
) -> None:
    table = RateTable(
        "XDR", dt.date(2022, 7, 8), "test", {source: rate_source, target: rate_target}
    )
    money = Money.from_minor(units, source)
    converted = table.convert(money, target)
    exact = Fraction(money.amount) * Fraction(table.rate(target)) / Fraction(table.rate(source))
    quantum = Fraction(Money.from_minor(1, target).amount)
    assert converted.is_quantized()
    assert abs(Fraction(converted.amount) - exact) <= quantum / 2


def test_a_new_set_is_current_at_once_though_tables_are_kept_per_process(
    session: Session, operator: User
) -> None:
    import_rates(session, EcbXml(str(ECB_FILE)), NOW)
    first = current_table(session)
    assert current_table(session) is first  # read once per set
    enter_rates(
        session,
        entered_by=operator.id,
        base="EUR",
        rates={"KZT": "489.50"},
        as_of=dt.date(2022, 7, 9),
        now=NOW,
    )
    second = current_table(session)
    assert second.set_id != first.set_id and second.rates["KZT"] == Decimal("489.50")
