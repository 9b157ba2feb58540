"""Article pairs for near-duplicate story detection: the same wire story as republished, and
different stories on the same topic.

Every text is invented for these tests (places, people and figures included). A text is a
headline on its first line, then paragraphs separated by blank lines, as the extractor hands
an article on. Same-story pairs are one piece of agency copy as outlets carry it: a new
headline, an outlet's own intro or footer, "Reporting by" lines, paragraphs cut, reordered or
lightly reworded, or one paragraph added in an update. Different-story pairs are meant to be
hard: same conflict, same places or people, the same stock phrases and, where outlets do it,
the same background paragraph or the same outlet footer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    name: str  # short id, e.g. "wire-rewritten-headline-footer"
    same_story: bool
    a: str  # full article text (headline on the first line, then paragraphs separated by blank lines)
    b: str


# An outlet's own footer, carried under every story it republishes (about 45 words).
_LEDGER_FOOTER = """\
© The Northern Ledger. All rights reserved. This article was produced from agency copy and may be updated as the story develops. Sign up for our free morning briefing to get the day's top stories in your inbox before 7 a.m., and follow us for live coverage."""

# A newsletter box that another outlet drops between paragraphs.
_COURIER_BOX = """\
NEWSLETTER: Get the Courier's world desk in your inbox every weekday. Our correspondents explain the stories behind the headlines, with maps, data and analysis you will not find anywhere else. Sign up now, it only takes a minute."""


# --- Ceasefire in Dargesh (Velmora) -------------------------------------------------------

CEASEFIRE_KALVAR = """\
Truce takes hold in eastern Dargesh as rival forces pull back from Kalvar

KALVAR, Velmora, March 4 (Wire) - A ceasefire between Velmoran government troops and the Dargesh Liberation Front largely held on Tuesday, residents and aid workers said, after two weeks of shelling that emptied much of the eastern city of Kalvar.

The truce, brokered by mediators from the regional bloc and announced late on Sunday, requires both sides to withdraw heavy weapons at least 15 kilometres from the city's outskirts and to open two corridors for aid trucks.

"It is the first night in sixteen days that we slept without hearing the guns," said Irena Pavlek, a 43-year-old teacher who sheltered with her two children in the basement of a school near the central market.

A spokesman for the Velmoran defence ministry, Colonel Andrei Sorin, said troops had begun moving artillery units west of the Rusna river, but warned that the army would respond "immediately and firmly" to any violation. The Front's political office said in a statement that its fighters were "respecting every clause" of the agreement.

The United Nations said at least 212 civilians had been killed in Kalvar and surrounding villages since fighting flared on Feb. 16, and that around 40,000 people had fled toward the provincial capital, Tesk.

Monitors from the regional bloc are due to arrive on Thursday to verify the pullback. Previous truces in Dargesh, in 2019 and again in 2022, collapsed within weeks amid disputes over who controlled the hills above the city.

The conflict in Dargesh began in 2017, when the Front took up arms demanding autonomy for the mostly Darg-speaking region, which holds most of Velmora's coal reserves. Successive rounds of talks have stalled over the status of the regional assembly and the return of land seized during the fighting."""

CEASEFIRE_KALVAR_LEDGER = (
    """\
Guns fall silent over Kalvar for the first time in more than two weeks

KALVAR, Velmora, March 4 (Wire) - A ceasefire between Velmoran government troops and the Dargesh Liberation Front largely held on Tuesday, residents and aid workers said, after two weeks of shelling that emptied much of the eastern city of Kalvar.

The truce, brokered by mediators from the regional bloc and announced late on Sunday, requires both sides to withdraw heavy weapons at least 15 kilometres from the city's outskirts and to open two corridors for aid trucks.

"It is the first night in sixteen days that we slept without hearing the guns," said Irena Pavlek, a 43-year-old teacher who sheltered with her two children in the basement of a school near the central market.

A spokesman for the Velmoran defence ministry, Colonel Andrei Sorin, said troops had begun moving artillery units west of the Rusna river, but warned that the army would respond "immediately and firmly" to any violation. The Front's political office said in a statement that its fighters were "respecting every clause" of the agreement.

The United Nations said at least 212 civilians had been killed in Kalvar and surrounding villages since fighting flared on Feb. 16, and that around 40,000 people had fled toward the provincial capital, Tesk.

Monitors from the regional bloc are due to arrive on Thursday to verify the pullback. Previous truces in Dargesh, in 2019 and again in 2022, collapsed within weeks amid disputes over who controlled the hills above the city.

The conflict in Dargesh began in 2017, when the Front took up arms demanding autonomy for the mostly Darg-speaking region, which holds most of Velmora's coal reserves. Successive rounds of talks have stalled over the status of the regional assembly and the return of land seized during the fighting.

Reporting by Mila Daskal in Kalvar and Petr Ostrun in Tesk; Writing by Hana Ruel; Editing by Tom Berrick

"""
    + _LEDGER_FOOTER
)

CEASEFIRE_SAHRUN = """\
Clan militias agree to halt fighting over wells near Bir Ketta

BIR KETTA, Azeli, March 6 (Wire) - Rival clan militias in Azeli's southern Sahrun district agreed on Thursday to a ceasefire and an exchange of prisoners, elders involved in the talks said, ending a month of clashes over grazing land and wells that has killed dozens.

The agreement, signed in the market town of Bir Ketta after three days of negotiations hosted by the district governor, commits both militias to remove roadblocks on the highway to the coast and to hand over fighters accused of killing two elders in February.

"We have buried too many young men over water," said Hassan Ould Mera, a 70-year-old elder from the Beni Sar clan who signed the document. "Now the wells will be shared as our grandfathers shared them."

The United Nations said at least 61 people had been killed and around 9,000 displaced since the clashes began in early February, many of them herders who fled with their livestock toward the border.

A spokesman for Azeli's interior ministry said police units would be deployed along the highway from Saturday, but warned that the government would respond firmly to any violation of the truce. Previous agreements between the two clans, in 2016 and 2020, collapsed within months.

Disputes over land and water have intensified across Sahrun after three failed rainy seasons in a row, according to the ministry of agriculture, which says the district has lost nearly a third of its cattle since 2021."""

CEASEFIRE_KALVAR_BREACH = """\
Shelling hits Kalvar outskirts, testing fragile Dargesh truce

TESK, Velmora, March 19 (Wire) - Artillery fire struck villages on the southern outskirts of Kalvar overnight, local officials said on Wednesday, the most serious breach yet of a two-week-old ceasefire between Velmoran government troops and the Dargesh Liberation Front.

At least seven people were killed in the village of Olshany, among them three children, according to the regional health department. Both sides blamed each other for the attack.

Colonel Andrei Sorin, the defence ministry spokesman, said Front fighters had fired mortars from the hills above Kalvar and that the army had "returned fire at the sources only". The Front's political office said government guns had never been pulled back beyond the Rusna river as the agreement required.

Monitors from the regional bloc, who arrived in Kalvar on March 6, said in a statement that they had been unable to reach Olshany because of mines on the access road, and called on both sides to "show restraint and honour their commitments".

Aid agencies said only 31 of the 120 trucks planned under the truce had reached the city so far, and that the northern corridor had been closed since Sunday.

The conflict in Dargesh began in 2017, when the Front took up arms demanding autonomy for the mostly Darg-speaking region, which holds most of Velmora's coal reserves. Successive rounds of talks have stalled over the status of the regional assembly and the return of land seized during the fighting."""


# --- Displacement in Kiruvan (Tamsen) ------------------------------------------------------

DISPLACEMENT_KIRUVAN = """\
Fighting in Kiruvan forces 85,000 from their homes in a week, UN says

GENEVA, May 12 (Wire) - Renewed fighting between Tamsen's army and Northern Alliance rebels has forced more than 85,000 people from their homes in Kiruvan province in the past seven days, the United Nations refugee agency said on Friday, warning that camps near the border were already full.

Most of those displaced fled the towns of Haro and Ambessa after the rebels launched an offensive on May 4, UNHCR spokeswoman Clara Mendt told a briefing in Geneva. Many walked for three or four days, carrying children and the elderly, to reach the camp at Dulo, which was built for 20,000 people and now shelters more than 60,000.

"People are arriving exhausted, with nothing, and we are seeing children with severe malnutrition," Mendt said. "We do not have enough tents, water or latrines for those already there."

The agency said about 12,000 people had crossed into neighbouring Azeli, where authorities have opened a temporary reception site at the border post of Tullo Gate.

Tamsen's government said in a statement that the army had retaken Haro on Wednesday and urged residents to return, saying "the security situation is fully under control". Aid workers said the town was largely deserted and that the road to it remained closed.

The World Food Programme said it had been forced to cut rations in Dulo by half because of a funding shortfall. Its appeal for Tamsen this year is 18 percent funded, according to the agency.

Kiruvan has been contested since the Northern Alliance was formed in 2015 by former army officers. More than 1.2 million people are internally displaced across Tamsen, according to the United Nations, most of them in the north and west of the country."""

# The same copy cut to its first paragraphs, as a site's news-in-brief column carries it.
DISPLACEMENT_KIRUVAN_BRIEF = """\
Fighting in Kiruvan forces 85,000 from their homes in a week, UN says

GENEVA, May 12 (Wire) - Renewed fighting between Tamsen's army and Northern Alliance rebels has forced more than 85,000 people from their homes in Kiruvan province in the past seven days, the United Nations refugee agency said on Friday, warning that camps near the border were already full.

Most of those displaced fled the towns of Haro and Ambessa after the rebels launched an offensive on May 4, UNHCR spokeswoman Clara Mendt told a briefing in Geneva. Many walked for three or four days, carrying children and the elderly, to reach the camp at Dulo, which was built for 20,000 people and now shelters more than 60,000."""

DISPLACEMENT_DARGESH = """\
More than 50,000 flee Dargesh fighting as winter nears, UN agency says

GENEVA, Nov. 7 (Wire) - Fighting between Velmoran forces and Dargesh Liberation Front rebels has forced more than 50,000 people from their homes in eastern Velmora since mid-October, the United Nations refugee agency said on Friday, urging donors to fund shelter before temperatures drop below freezing.

Most of the displaced fled villages along the Rusna river and are sleeping in schools, sports halls and unfinished buildings in the provincial capital, Tesk, UNHCR spokeswoman Clara Mendt told a briefing in Geneva.

"Many families left with only what they could carry, and they have no heating, no winter clothes and no blankets," Mendt said. "In a few weeks nights will be at minus fifteen."

The agency said it had delivered 4,000 stoves and 20,000 thermal blankets but needed five times as much. Its winter appeal for Velmora, launched in September, is 22 percent funded, according to the agency.

The Velmoran government said in a statement that it had opened 40 heated collective centres and would pay each displaced family a monthly allowance of 3,000 lek.

More than 300,000 people are internally displaced across Velmora, according to the United Nations, most of them from Dargesh, where the Front has fought for autonomy since 2017."""

DISPLACEMENT_KIRUVAN_LATER = """\
Kiruvan displacement passes 140,000 as rains flood overcrowded Dulo camp

GENEVA, May 26 (Wire) - The number of people forced from their homes by fighting in Tamsen's Kiruvan province has risen to more than 140,000 in three weeks, the United Nations refugee agency said on Friday, as heavy rains flooded parts of the overcrowded camp at Dulo.

UNHCR spokeswoman Clara Mendt told a briefing in Geneva that about a third of the shelters in Dulo had been damaged or washed away on Monday night and that cases of acute watery diarrhoea had doubled in a week.

"We are racing to move families to higher ground, but there is simply no more space," she said. The agency is trying to open a second site at Kassa, 30 km to the south, but the local authorities have not yet agreed.

The number of refugees who have crossed into Azeli has reached 27,000, the agency said, and the Tullo Gate reception site is now holding four times its capacity.

Tamsen's army said it had pushed the rebels out of Ambessa on Sunday. Residents reached by phone said the town's market and hospital had been looted.

Kiruvan has been contested since the Northern Alliance was formed in 2015 by former army officers. More than 1.2 million people are internally displaced across Tamsen, according to the United Nations, most of them in the north and west of the country."""


# --- Envoy's visits (Velmora) --------------------------------------------------------------

ENVOY_MOSCOW = """\
Velmoran envoy seeks Russian backing for Dargesh peace plan

MOSCOW, April 2 (Wire) - Velmora's presidential envoy Tomas Kerel met Russia's deputy foreign minister in Moscow on Tuesday to seek support for a peace plan for the breakaway Dargesh region, the Velmoran foreign ministry said.

Kerel, who has led Velmora's side in talks with the Dargesh Liberation Front since 2022, presented a 12-point plan that would give the region an elected assembly with powers over schools and local taxes in return for the Front handing over its heavy weapons, according to the ministry.

The Russian foreign ministry said the two sides had discussed "regional security and the settlement of the conflict in Dargesh" and that Moscow supported "a political solution based on dialogue". It did not say whether Russia would back the plan at the United Nations Security Council, where a draft resolution on Dargesh is expected next month.

Kerel told reporters after the meeting that the talks had been "frank and useful" and that he had asked Moscow to use its contacts with the Front's leadership, some of whom have lived in Russia for years.

Russia is Velmora's largest buyer of coal and has supplied most of its military equipment since independence. Relations cooled in 2021 after Velmora signed an association agreement with the European Union.

Kerel is due to travel on to Ankara on Thursday. The foreign ministry said he would visit the other permanent members of the Security Council in the coming weeks.

Fighting in Dargesh has killed more than 9,000 people since 2017, according to the United Nations, and a ceasefire agreed in March has been repeatedly violated."""

# The same copy with its paragraphs moved: quote and background first, as an outlet re-edits.
ENVOY_MOSCOW_REORDERED = """\
Velmoran envoy seeks Russian backing for Dargesh peace plan

MOSCOW, April 2 (Wire) - Velmora's presidential envoy Tomas Kerel met Russia's deputy foreign minister in Moscow on Tuesday to seek support for a peace plan for the breakaway Dargesh region, the Velmoran foreign ministry said.

Kerel told reporters after the meeting that the talks had been "frank and useful" and that he had asked Moscow to use its contacts with the Front's leadership, some of whom have lived in Russia for years.

Fighting in Dargesh has killed more than 9,000 people since 2017, according to the United Nations, and a ceasefire agreed in March has been repeatedly violated.

Russia is Velmora's largest buyer of coal and has supplied most of its military equipment since independence. Relations cooled in 2021 after Velmora signed an association agreement with the European Union.

Kerel, who has led Velmora's side in talks with the Dargesh Liberation Front since 2022, presented a 12-point plan that would give the region an elected assembly with powers over schools and local taxes in return for the Front handing over its heavy weapons, according to the ministry.

Kerel is due to travel on to Ankara on Thursday. The foreign ministry said he would visit the other permanent members of the Security Council in the coming weeks.

The Russian foreign ministry said the two sides had discussed "regional security and the settlement of the conflict in Dargesh" and that Moscow supported "a political solution based on dialogue". It did not say whether Russia would back the plan at the United Nations Security Council, where a draft resolution on Dargesh is expected next month."""

ENVOY_BEIJING = """\
Velmoran envoy takes Dargesh peace plan to Beijing

BEIJING, May 14 (Wire) - Velmora's presidential envoy Tomas Kerel met China's special representative for Eurasian affairs in Beijing on Tuesday, the latest stop in a tour of Security Council capitals to win support for a peace plan for the Dargesh region, the Velmoran foreign ministry said.

Kerel, who has led Velmora's side in talks with the Dargesh Liberation Front since 2022, presented a 12-point plan that would give the region an elected assembly with powers over schools and local taxes in return for the Front handing over its heavy weapons, according to the ministry.

China's foreign ministry said Beijing "respects Velmora's sovereignty and territorial integrity" and supported "a political settlement through dialogue and consultation". A spokeswoman told a regular briefing that China was ready to play "a constructive role" but did not say whether it would back the plan.

Kerel also met executives of two Chinese state companies that are building a railway line from the Dargesh coal fields to the Black Sea coast, a project suspended since fighting resumed last year.

The Security Council vote on a draft resolution on Dargesh, first expected in May, has been postponed to June after Russia asked for more time, diplomats said.

Kerel visited Moscow, Paris and London in April. He told reporters in Beijing that he expected to travel to Washington "before the vote"."""


# --- Floods in the Bresa valley (Norvan) ---------------------------------------------------

FLOOD_BRESA = """\
Floods kill at least 23 in Norvan's Bresa valley after record rainfall

ORLEN, Norvan, Sept. 9 (Wire) - Flash floods swept through towns in Norvan's Bresa valley on Sunday after the heaviest rainfall on record, killing at least 23 people and leaving dozens missing, the interior ministry said.

More than 180 millimetres of rain fell in 12 hours on the upper valley, the national weather service said, almost three times the monthly average for September. The river Bresa burst its banks at Orlen and Vessy, flooding the centre of both towns to a depth of two metres.

Rescue teams using boats and helicopters had pulled more than 400 people from rooftops and cars by Sunday evening, according to the ministry. Nine of the dead were found in a campsite near Vessy that was swept away before dawn.

"The water came down the street like a wall. We climbed onto the roof with the neighbours and waited there for six hours," said Jonas Mikkel, a 61-year-old baker in Orlen.

Prime Minister Elsa Varga cancelled a trip abroad and was due to visit the valley on Monday. The government said it would declare a state of emergency in four districts.

The Bresa valley, home to about 400,000 people, is one of the most flood-prone areas in Norvan. Floods in 2010 killed 140 people and led to the construction of a network of dams and dykes that engineers say was not designed for rainfall of this intensity."""

FLOOD_BRESA_RELATED = """\
Floods kill at least 23 in Norvan's Bresa valley after record rainfall

Readers in the Bresa valley can send photos and accounts of the flooding to our newsroom; we are following the story live throughout the day.

ORLEN, Norvan, Sept. 9 (Wire) - Flash floods swept through towns in Norvan's Bresa valley on Sunday after the heaviest rainfall on record, killing at least 23 people and leaving dozens missing, the interior ministry said.

More than 180 millimetres of rain fell in 12 hours on the upper valley, the national weather service said, almost three times the monthly average for September. The river Bresa burst its banks at Orlen and Vessy, flooding the centre of both towns to a depth of two metres.

Related: Live map of closed roads and evacuation centres in the Bresa valley

Rescue teams using boats and helicopters had pulled more than 400 people from rooftops and cars by Sunday evening, according to the ministry. Nine of the dead were found in a campsite near Vessy that was swept away before dawn.

"The water came down the street like a wall. We climbed onto the roof with the neighbours and waited there for six hours," said Jonas Mikkel, a 61-year-old baker in Orlen.

Related: How the 2010 floods changed the Bresa valley

Prime Minister Elsa Varga cancelled a trip abroad and was due to visit the valley on Monday. The government said it would declare a state of emergency in four districts.

The Bresa valley, home to about 400,000 people, is one of the most flood-prone areas in Norvan. Floods in 2010 killed 140 people and led to the construction of a network of dams and dykes that engineers say was not designed for rainfall of this intensity.

Related: Why storms are getting wetter, explained in five charts"""

FLOOD_BRESA_FOLLOWUP = """\
Bresa flood toll rises to 58 as rescuers reach cut-off villages

VESSY, Norvan, Sept. 12 (Wire) - The death toll from last weekend's floods in Norvan's Bresa valley has risen to 58, the interior ministry said on Wednesday, as rescue teams reached mountain villages that had been cut off since Sunday.

Fourteen bodies were recovered in the hamlets of Kell and Upper Dorna, where a landslide buried a dozen houses, and 19 people are still listed as missing, the ministry said. Soldiers have built a temporary bridge over the Dorna stream to bring in food and medicine.

Prime Minister Elsa Varga, who toured Orlen on Monday, announced 600 million krona in emergency aid and said the government would review how the valley's flood defences had been designed. Opposition lawmakers have demanded an inquiry into why warning sirens in Vessy did not sound.

Insurers estimate that damage to homes and businesses could exceed 2 billion krona. Electricity has been restored to about half of the 70,000 households that lost power.

The Bresa valley, home to about 400,000 people, is one of the most flood-prone areas in Norvan. Floods in 2010 killed 140 people and led to the construction of a network of dams and dykes that engineers say was not designed for rainfall of this intensity."""


# --- Interest rates (Ardenia) --------------------------------------------------------------

RATES_ARDENIA = """\
Ardenia's central bank raises key rate to 9.5% as inflation stays high

TARVO, Ardenia, June 20 (Wire) - The National Bank of Ardenia raised its main interest rate by 50 basis points to 9.5 percent on Thursday, its third increase this year, saying inflation was falling more slowly than it had expected.

Consumer prices rose 8.1 percent in May from a year earlier, down from 8.6 percent in April but still far above the bank's target of 3 percent. Food and energy prices have risen sharply since the government removed fuel subsidies in January.

"Inflation remains too high and it is proving persistent," Governor Lidia Harkov told a news conference. "We are prepared to tighten further if needed to bring it back to target."

Most of the 14 economists polled by the agency last week had expected the increase. Two had forecast a hold.

The Ardenian dinar strengthened 0.4 percent against the euro after the decision. Government bond yields rose across the curve.

Business groups criticised the move. The chamber of commerce said higher borrowing costs would hurt small firms already struggling with energy bills and warned that investment was falling.

The bank's next policy meeting is scheduled for July 25. It publishes its quarterly inflation report, with new forecasts, in early August."""

# The same copy as a foreign-language service carries it, translated back: a few sentences reworded.
RATES_ARDENIA_REWORDED = """\
Central bank of Ardenia lifts key rate to 9.5% as inflation remains elevated

TARVO, Ardenia, June 20 (Wire) - The National Bank of Ardenia raised its main interest rate by 50 basis points to 9.5 percent on Thursday, its third increase this year, saying inflation was falling more slowly than it had expected.

Consumer prices rose 8.1 percent in May compared with the same month a year before, down from 8.6 percent in April but still well above the bank's 3 percent target. Prices of food and energy have climbed strongly since the government ended fuel subsidies in January.

"Inflation remains too high and it is proving persistent," Governor Lidia Harkov told a news conference. "We are ready to tighten more if that is necessary to return it to the target."

Most of the 14 economists polled by the agency last week had expected the increase. Two had forecast a hold.

After the decision the Ardenian dinar gained 0.4 percent against the euro. Government bond yields rose across the curve.

Business groups criticised the move. The chamber of commerce said higher borrowing costs would hurt small firms already struggling with energy bills and warned that investment was falling.

The next policy meeting of the bank is planned for July 25. It publishes its quarterly inflation report, with new forecasts, in early August."""

RATES_ARDENIA_JULY = """\
Ardenia's central bank holds key rate at 9.5%, signals end of tightening

TARVO, Ardenia, July 25 (Wire) - The National Bank of Ardenia kept its main interest rate unchanged at 9.5 percent on Thursday and said it was likely to have reached the peak of its tightening cycle, as inflation slowed for a fourth month in a row.

Consumer prices rose 7.2 percent in June from a year earlier, a sharper fall than analysts had expected, helped by lower fuel prices and a good harvest.

"We see clear signs that our earlier decisions are working," Governor Lidia Harkov told a news conference. "The risks are now more balanced, but it is too early to talk about cuts."

Ten of the 14 economists polled by the agency last week had expected the bank to hold. Four had forecast a further increase of 25 basis points.

The Ardenian dinar weakened 0.3 percent against the euro after the decision, and government bond yields fell.

The chamber of commerce welcomed the pause, saying businesses needed stability. Consumer lending fell 4 percent in the second quarter, according to the bank.

The bank's next policy meeting is scheduled for Sept. 12. It publishes its quarterly inflation report, with new forecasts, in early August."""


# --- Earthquake in Hallan province (Tamsen) ------------------------------------------------

QUAKE_HALLAN = """\
Strong earthquake kills at least 41 in Tamsen's Hallan province

MERU, Tamsen, Feb. 2 (Wire) - A magnitude 6.4 earthquake struck Tamsen's mountainous Hallan province early on Saturday, killing at least 41 people and injuring more than 300, the national disaster agency said.

The quake hit at 4:12 a.m. at a depth of 10 km, about 25 km north of the town of Meru, according to the geological survey. It was felt in the capital, 300 km away, and was followed by more than 40 aftershocks, the strongest of magnitude 5.1.

Most of the victims were in the villages of Sorra and Bekal, where mud-brick houses collapsed on sleeping families, the agency said. Rescuers were digging through rubble with their hands because landslides had blocked the only road into the valley.

"We heard a roar and then the walls fell. My brother's house is gone, we are still looking for his children," said Amanuel Tesfa, a farmer in Sorra, speaking by phone.

The government sent army helicopters to evacuate the injured to Meru's hospital, which said it had run out of beds and was treating patients in tents in the car park.

The Red Crescent said it had sent 2,000 tents and blankets. Overnight temperatures in the area fall below zero in February.

Hallan lies on a fault line between two tectonic plates. An earthquake of magnitude 6.9 killed more than 1,100 people in the province in 1988."""

# The same story as updated an hour later: new toll in the lead and one paragraph added.
QUAKE_HALLAN_UPDATED = """\
Strong earthquake kills at least 58 in Tamsen's Hallan province

MERU, Tamsen, Feb. 2 (Wire) - A magnitude 6.4 earthquake struck Tamsen's mountainous Hallan province early on Saturday, killing at least 58 people and injuring more than 300, the national disaster agency said.

The quake hit at 4:12 a.m. at a depth of 10 km, about 25 km north of the town of Meru, according to the geological survey. It was felt in the capital, 300 km away, and was followed by more than 40 aftershocks, the strongest of magnitude 5.1.

Most of the victims were in the villages of Sorra and Bekal, where mud-brick houses collapsed on sleeping families, the agency said. Rescuers were digging through rubble with their hands because landslides had blocked the only road into the valley.

"We heard a roar and then the walls fell. My brother's house is gone, we are still looking for his children," said Amanuel Tesfa, a farmer in Sorra, speaking by phone.

President Yared Haile declared three days of national mourning and said the government would rebuild every house destroyed. Army engineers reached Bekal in the afternoon after clearing part of the road.

The government sent army helicopters to evacuate the injured to Meru's hospital, which said it had run out of beds and was treating patients in tents in the car park.

The Red Crescent said it had sent 2,000 tents and blankets. Overnight temperatures in the area fall below zero in February.

Hallan lies on a fault line between two tectonic plates. An earthquake of magnitude 6.9 killed more than 1,100 people in the province in 1988."""

QUAKE_HALLAN_AFTERSHOCK = """\
Aftershock topples damaged buildings in Meru, days after deadly Hallan quake

MERU, Tamsen, Feb. 6 (Wire) - A magnitude 5.6 aftershock shook Tamsen's Hallan province on Wednesday, bringing down buildings already damaged in last weekend's earthquake and killing at least four people, the national disaster agency said.

Among the dead were two volunteers who were clearing rubble from a collapsed school in the centre of Meru, the agency said. Thousands of residents who had returned home ran back into the streets and say they will sleep in tents.

The death toll from Saturday's magnitude 6.4 quake has risen to 96, according to the agency, with more than 700 people injured. Rescuers ended the search for survivors in Sorra and Bekal on Tuesday.

"Every time the ground moves, the children start screaming," said Hiwot Bekele, who lives with her family in a tent in a football field. "Nobody wants to go inside a house again."

The government has asked engineers to inspect every public building in the province before schools reopen. The United Nations said it had released $3 million from its emergency fund.

Hallan lies on a fault line between two tectonic plates. An earthquake of magnitude 6.9 killed more than 1,100 people in the province in 1988."""


# --- Presidential election (Ardenia) -------------------------------------------------------

ELECTION_FIRST_ROUND = """\
Ardenia heads for runoff as Dorin and Vasek lead presidential vote

TARVO, Ardenia, Oct. 6 (Wire) - Former prime minister Pavel Dorin and opposition leader Katya Vasek will face each other in a runoff for Ardenia's presidency on Oct. 20, after neither won a majority in Sunday's first round, preliminary results showed on Monday.

With 98 percent of polling stations counted, Dorin had 38.4 percent of the vote and Vasek 31.2 percent, the Central Electoral Commission said. The nationalist candidate Ion Marek came third with 14.9 percent.

Turnout was 61 percent, the highest since 2004, the commission said. Long queues formed outside polling stations abroad, where many of Ardenia's roughly 800,000 migrant workers vote.

Dorin, who led the government from 2016 to 2020, has promised to keep the country on course to join the European Union by the end of the decade. Vasek, a former judge, has campaigned against corruption and says she would hold a referendum on the EU accession treaty.

"The people have given us a clear mandate to finish the work," Dorin told supporters in Tarvo. Vasek said the result showed "that most Ardenians want change" and called on Marek's voters to back her.

Observers from the Organization for Security and Co-operation in Europe said the vote was competitive and well run but noted cases of vote buying in rural areas and a lack of balance in coverage on state television.

Marek has not said whom he will support in the runoff. Analysts say his voters, mostly in the industrial north, are likely to decide the outcome.

The president of Ardenia is elected for five years and appoints the prime minister, and has wide powers over foreign and defence policy."""

# An outlet's cut of the same copy: two paragraphs dropped, its own footer added.
ELECTION_FIRST_ROUND_TRIMMED = (
    """\
Ardenia heads for runoff as Dorin and Vasek lead presidential vote

TARVO, Ardenia, Oct. 6 (Wire) - Former prime minister Pavel Dorin and opposition leader Katya Vasek will face each other in a runoff for Ardenia's presidency on Oct. 20, after neither won a majority in Sunday's first round, preliminary results showed on Monday.

With 98 percent of polling stations counted, Dorin had 38.4 percent of the vote and Vasek 31.2 percent, the Central Electoral Commission said. The nationalist candidate Ion Marek came third with 14.9 percent.

Dorin, who led the government from 2016 to 2020, has promised to keep the country on course to join the European Union by the end of the decade. Vasek, a former judge, has campaigned against corruption and says she would hold a referendum on the EU accession treaty.

"The people have given us a clear mandate to finish the work," Dorin told supporters in Tarvo. Vasek said the result showed "that most Ardenians want change" and called on Marek's voters to back her.

Marek has not said whom he will support in the runoff. Analysts say his voters, mostly in the industrial north, are likely to decide the outcome.

"""
    + _LEDGER_FOOTER
)

ELECTION_RUNOFF = """\
Vasek wins Ardenia's presidency in upset over former premier Dorin

TARVO, Ardenia, Oct. 21 (Wire) - Opposition leader Katya Vasek won Ardenia's presidential runoff with 52.7 percent of the vote, defeating former prime minister Pavel Dorin, the Central Electoral Commission said on Monday after counting almost all ballots.

Dorin, who had led the first round by seven points, conceded late on Sunday night and congratulated Vasek, saying Ardenians had "chosen a different path and I respect it".

Vasek, a former judge who campaigned against corruption, won most districts in the industrial north, where the nationalist Ion Marek had come third in the first round before endorsing her last week. Turnout was 64 percent.

"Tonight the citizens have taken the country back," Vasek told thousands of supporters in Freedom Square. She repeated her pledge to put the EU accession treaty to a referendum within a year.

The European Commission said it looked forward to working with the new president. Observers from the Organization for Security and Co-operation in Europe said the runoff was well run but noted cases of vote buying in rural areas and a lack of balance in coverage on state television.

Vasek will be sworn in on Dec. 1. The president of Ardenia is elected for five years and appoints the prime minister, and has wide powers over foreign and defence policy."""


# --- Mine accidents (Velmora) --------------------------------------------------------------

MINE_ZAROV = """\
Methane blast traps 17 miners at Zarov coal mine in Velmora

ZAROV, Velmora, Jan. 15 (Wire) - A methane explosion at a coal mine in western Velmora trapped 17 miners about 800 metres underground on Wednesday, the state mining company Velcoal said, and rescuers were trying to reach them through a collapsed tunnel.

The blast happened at 11:40 a.m. at the Zarov-3 mine, where 112 miners were working on the morning shift, the company said. Ninety-five were brought to the surface, 12 of them with burns or carbon monoxide poisoning.

Rescue teams had drilled to within 60 metres of the section where the men were believed to be, but high levels of gas were slowing the work, said Velcoal's director of safety, Oleg Brana.

"We have not lost hope. There is an air pocket in that part of the mine and the men have trained for this," he told reporters at the pit head, where dozens of relatives waited in the snow.

The energy minister, Daria Holm, ordered the suspension of work at two other Velcoal mines that use the same ventilation system, pending inspections.

Zarov-3 was fined twice last year for failing to monitor methane levels, according to records of the state mining inspectorate. The miners' union said it had warned that the ventilation equipment was more than 30 years old.

Velmora's mines, most of them built in the 1960s and 1970s, are among the most dangerous in Europe. An explosion at the nearby Zarov-1 mine killed 23 men in 2014."""

# The same story as carried by a French-language service and translated back: reworded throughout.
MINE_ZAROV_TRANSLATED = """\
Velmora: 17 miners trapped after methane explosion in Zarov coal mine

ZAROV, Velmora, Jan. 15 (Wire) - A methane explosion in a coal mine in the west of Velmora on Wednesday trapped 17 miners some 800 metres below ground, the state mining company Velcoal announced, and rescuers were trying to reach them through a collapsed gallery.

The explosion occurred at 11:40 a.m. in the Zarov-3 mine, where 112 miners were working on the morning shift, according to the company. Ninety-five were brought back to the surface, 12 of them suffering from burns or carbon monoxide poisoning.

Rescue teams had drilled to within 60 metres of the sector where the men were believed to be, but the high concentration of gas was slowing the work, said the director of safety of Velcoal, Oleg Brana.

"We have not lost hope. There is a pocket of air in that part of the mine and the men are trained for this," he declared to journalists at the pit head, where dozens of relatives were waiting in the snow.

The minister of energy, Daria Holm, ordered work suspended at two other Velcoal mines that use the same ventilation system, pending inspections.

Zarov-3 was fined twice last year for failing to monitor methane levels, according to the records of the state mining inspectorate. The miners' union said it had warned that the ventilation equipment was more than 30 years old.

The mines of Velmora, most of them built in the 1960s and 1970s, are among the most dangerous in Europe. An explosion in the neighbouring Zarov-1 mine killed 23 men in 2014."""

MINE_KOSTEL = """\
Tunnel collapse kills three at Velcoal's Kostel mine, weeks after Zarov blast

KOSTEL, Velmora, March 3 (Wire) - Three miners were killed and five injured when a tunnel roof collapsed at a coal mine in western Velmora on Monday, the state mining company Velcoal said, seven weeks after an explosion at its Zarov-3 mine killed 17 men.

The collapse happened at about 2 a.m. on the night shift at the Kostel-2 mine, 600 metres below ground, the company said. All the other 48 miners on the shift were brought to the surface.

Velcoal's director of safety, Oleg Brana, said a fault in the roof supports appeared to be the cause and that an investigation had been opened. He told reporters there was "no link" with the Zarov disaster.

The miners' union called a one-day strike at all Velcoal mines for Thursday. "How many more funerals before the government replaces this equipment?" the union's leader, Stefan Rudan, said.

The energy minister, Daria Holm, who promised in January to spend 200 million lek on mine safety, said the first contracts for new ventilation and roof supports would be signed this month.

Velmora's mines, most of them built in the 1960s and 1970s, are among the most dangerous in Europe. An explosion at the nearby Zarov-1 mine killed 23 men in 2014."""


# --- Cholera (Tamsen and Azeli) ------------------------------------------------------------

CHOLERA_TAMSEN = """\
Cholera outbreak spreads in Tamsen's camps, 1,900 cases recorded

ADDA, Tamsen, Aug. 3 (Wire) - A cholera outbreak in camps for displaced people in northern Tamsen has spread to three provinces, with nearly 1,900 suspected cases and 37 deaths recorded in four weeks, the health ministry said on Saturday.

Most of the cases were in Kiruvan province, where the Dulo camp shelters more than 100,000 people who fled fighting between the army and Northern Alliance rebels earlier this year, according to the ministry.

"The camps are overcrowded and there is not enough clean water. As long as people drink from the river, cholera will keep spreading," said Dr. Miriam Osei, who runs a treatment centre in Dulo for the medical charity Health Without Borders. The centre has 80 beds and was treating 130 patients on Friday.

The ministry said it had received 500,000 doses of oral vaccine and would begin a vaccination campaign in Dulo and two other camps next week.

The World Health Organization said in a statement that the risk of further spread was "high" because of the rainy season, population movements and weak health services.

Cholera is an acute diarrhoeal infection caused by eating food or drinking water contaminated with the bacterium Vibrio cholerae. It can kill within hours if untreated, but most patients can be treated with oral rehydration solution, according to the World Health Organization."""

# The same copy with an outlet's newsletter box dropped in the middle.
CHOLERA_TAMSEN_NEWSLETTER = (
    """\
Cholera outbreak spreads in Tamsen's camps, 1,900 cases recorded

ADDA, Tamsen, Aug. 3 (Wire) - A cholera outbreak in camps for displaced people in northern Tamsen has spread to three provinces, with nearly 1,900 suspected cases and 37 deaths recorded in four weeks, the health ministry said on Saturday.

Most of the cases were in Kiruvan province, where the Dulo camp shelters more than 100,000 people who fled fighting between the army and Northern Alliance rebels earlier this year, according to the ministry.

"""
    + _COURIER_BOX
    + """

"The camps are overcrowded and there is not enough clean water. As long as people drink from the river, cholera will keep spreading," said Dr. Miriam Osei, who runs a treatment centre in Dulo for the medical charity Health Without Borders. The centre has 80 beds and was treating 130 patients on Friday.

The ministry said it had received 500,000 doses of oral vaccine and would begin a vaccination campaign in Dulo and two other camps next week.

The World Health Organization said in a statement that the risk of further spread was "high" because of the rainy season, population movements and weak health services.

Cholera is an acute diarrhoeal infection caused by eating food or drinking water contaminated with the bacterium Vibrio cholerae. It can kill within hours if untreated, but most patients can be treated with oral rehydration solution, according to the World Health Organization."""
)

CHOLERA_AZELI = """\
Azeli reports first cholera cases near Tamsen border

TULLO GATE, Azeli, Aug. 7 (Wire) - Azeli has confirmed 46 cases of cholera and two deaths at a reception site for refugees from Tamsen near the border post of Tullo Gate, the health ministry said on Wednesday, the first cases in the country this year.

Health workers had isolated the patients in a tented ward and were testing water from the site's wells, the ministry said, adding that a team of epidemiologists had been sent from the capital.

"We expected this. The site was built for 5,000 people and today there are more than 20,000," said Leila Haddou, who coordinates the site for the Azeli Red Crescent. Most of the refugees arrived in May from Kiruvan province, where an outbreak has infected about 1,900 people.

The ministry has asked the World Health Organization for 100,000 doses of oral vaccine. It said it would screen new arrivals at the border for symptoms.

The World Health Organization said in a statement that the risk of further spread was "high" because of the rainy season, population movements and weak health services.

Cholera is an acute diarrhoeal infection caused by eating food or drinking water contaminated with the bacterium Vibrio cholerae. It can kill within hours if untreated, but most patients can be treated with oral rehydration solution, according to the World Health Organization."""


# --- Dock strikes (Norvan) -----------------------------------------------------------------

STRIKE_SALLAN = """\
Dockers strike at Port Sallan, halting Norvan's biggest container terminal

PORT SALLAN, Norvan, April 8 (Wire) - Dock workers at Port Sallan, Norvan's largest port, began a 72-hour strike on Monday over pay and automation plans, halting work at the main container terminal and leaving more than 20 ships waiting offshore, the port authority said.

The Norvan Dockworkers' Union is demanding a 12 percent pay rise over two years and guarantees that no jobs will be lost when automated cranes are introduced at the Eastern Terminal next year. Terminal operator Sallan Container Services has offered 6 percent.

"They want robots to do our work and they want us to pay for them with our wages," union leader Marta Jelin told about 2,000 workers at a rally outside the terminal gates.

The company said in a statement that its offer was "fair and generous" and that automation was needed to compete with ports in neighbouring countries. It said no worker would be dismissed before 2027.

Port Sallan handles about 60 percent of Norvan's container traffic. The chamber of commerce estimated that each day of the strike would cost the economy about 40 million krona.

Transport Minister Erik Salo called on both sides to return to talks and said the government was ready to appoint a mediator.

The union has threatened an open-ended strike from May 1 if no agreement is reached. Dockers last walked out in 2019, when a five-day strike ended with a 4 percent pay deal."""

# An outlet's edit: paragraphs moved around and two of them cut.
STRIKE_SALLAN_REORDERED = """\
Dockers strike at Port Sallan, halting Norvan's biggest container terminal

PORT SALLAN, Norvan, April 8 (Wire) - Dock workers at Port Sallan, Norvan's largest port, began a 72-hour strike on Monday over pay and automation plans, halting work at the main container terminal and leaving more than 20 ships waiting offshore, the port authority said.

"They want robots to do our work and they want us to pay for them with our wages," union leader Marta Jelin told about 2,000 workers at a rally outside the terminal gates.

Port Sallan handles about 60 percent of Norvan's container traffic. The chamber of commerce estimated that each day of the strike would cost the economy about 40 million krona.

The Norvan Dockworkers' Union is demanding a 12 percent pay rise over two years and guarantees that no jobs will be lost when automated cranes are introduced at the Eastern Terminal next year. Terminal operator Sallan Container Services has offered 6 percent.

The union has threatened an open-ended strike from May 1 if no agreement is reached. Dockers last walked out in 2019, when a five-day strike ended with a 4 percent pay deal."""

STRIKE_ORLEN_RIVER = """\
Strike spreads to Norvan's river ports as dockers back Sallan walkout

VIKSTAD, Norvan, May 2 (Wire) - Dock workers at Norvan's three river ports joined an open-ended strike on Thursday in support of colleagues at Port Sallan, stopping barge traffic on the Bresa and leaving grain and timber shipments stuck at quays, the Norvan Dockworkers' Union said.

About 900 workers walked out at Vikstad, Orlen and Tovel, where the union said management had refused to discuss a new pay scale. The river ports handle most of Norvan's grain exports.

"This is no longer only about Sallan. Every port in this country is underpaid," union leader Marta Jelin said at Vikstad, where strikers blocked the main gate with tractors borrowed from local farmers.

Port Sallan has been shut since the union began its open-ended strike on May 1, after talks with terminal operator Sallan Container Services broke down over automation.

Farmers' associations said the stoppage came at the worst time, with silos still full from last year's harvest and prices falling.

Transport Minister Erik Salo said he would meet both sides on Friday and did not rule out legislation to order workers back if the strike lasted more than a week.

Port Sallan handles about 60 percent of Norvan's container traffic. The chamber of commerce estimated that each day of the strike would cost the economy about 40 million krona."""


# --- Prisoner exchanges (Velmora and the Front) --------------------------------------------

PRISONERS_FIRST = """\
Velmora and Dargesh rebels swap 140 prisoners in first exchange since 2022

TESK, Velmora, June 3 (Wire) - Velmora's government and the Dargesh Liberation Front exchanged 140 prisoners on Monday morning at a checkpoint on the Rusna river bridge, the first such swap in more than two years, officials from both sides said.

The government handed over 72 people held on charges linked to the rebellion, and the Front released 68 soldiers and civilians, among them two journalists seized in 2023 and a conscript whose case had drawn wide attention at home, the Velmoran ombudsman's office said.

The exchange was arranged by the International Committee of the Red Cross, whose staff interviewed each prisoner beforehand to confirm that they wished to be returned.

Buses carrying the freed soldiers arrived in Tesk in the afternoon, where relatives waited with flowers. "I did not know if he was alive until last week," said Vera Hollan, whose son was captured near Kalvar in 2022.

Presidential envoy Tomas Kerel, who negotiated the swap, said it was "a sign that trust can be rebuilt" and that a second exchange could follow within weeks. The Front's political office said about 400 of its members remained in government prisons.

Human rights groups have accused both sides of holding people without charge and of mistreating detainees. The ombudsman said 1,300 people were still listed as missing since the conflict began.

The prisoner swap was one of the measures agreed in March alongside a ceasefire around Kalvar, which has been repeatedly violated. Talks on a wider settlement are due to resume in Ankara later this month.

Fighting in Dargesh has killed more than 9,000 people since the Front took up arms in 2017, according to the United Nations."""

# The same copy cut to its first 40 percent under a new headline, as an evening bulletin runs it.
PRISONERS_FIRST_SHORT = """\
140 prisoners freed at Rusna bridge in Velmora-rebel swap

TESK, Velmora, June 3 (Wire) - Velmora's government and the Dargesh Liberation Front exchanged 140 prisoners on Monday morning at a checkpoint on the Rusna river bridge, the first such swap in more than two years, officials from both sides said.

The government handed over 72 people held on charges linked to the rebellion, and the Front released 68 soldiers and civilians, among them two journalists seized in 2023 and a conscript whose case had drawn wide attention at home, the Velmoran ombudsman's office said.

The exchange was arranged by the International Committee of the Red Cross, whose staff interviewed each prisoner beforehand to confirm that they wished to be returned."""

PRISONERS_SECOND = """\
Second Velmora-Dargesh prisoner swap frees 210, including wounded fighters

TESK, Velmora, July 9 (Wire) - Velmora and the Dargesh Liberation Front exchanged 210 prisoners on Tuesday at the Rusna river bridge, the second swap in five weeks and the largest since the conflict began, the Velmoran ombudsman's office said.

Among the 118 people released by the government were 30 wounded fighters who were taken straight to hospitals in Front-held territory, the ombudsman said. The Front freed 92 soldiers, police officers and civilians.

The exchange was arranged by the International Committee of the Red Cross, whose staff interviewed each prisoner beforehand to confirm that they wished to be returned.

Presidential envoy Tomas Kerel said the two sides had also agreed to exchange the remains of 60 fighters and to set up a joint group to search for the missing.

"We want every family to know where their sons are," said Kerel, who has led the government's side in talks since 2022.

The Front's political office said about 250 of its members were still held by the government and accused the authorities of delaying the release of prisoners convicted by military courts.

The ombudsman said 1,300 people were still listed as missing since the conflict began in 2017."""


# --- Wildfires on the Lerna coast (Ardenia) ------------------------------------------------

WILDFIRE_LERNA = """\
Wildfire forces evacuation of 6,000 from villages on Ardenia's Lerna coast

LERNA, Ardenia, July 30 (Wire) - A wildfire driven by strong winds forced the evacuation of about 6,000 people from villages and holiday resorts on Ardenia's Lerna coast on Tuesday, the civil protection agency said, as temperatures passed 42 degrees Celsius for a fifth day.

The fire broke out in pine forest above the village of Sarnia shortly after noon and spread towards the coast along a front of about 8 km, the agency said. Firefighters were battling flames on the edge of Port Lerna, where tourists were taken from beaches by boat.

"We were told to leave in ten minutes. We took the dog and the passports and nothing else," said Marco Tellen, a hotel owner in Sarnia, who was sheltering in a sports hall in Lerna town.

More than 300 firefighters, 60 fire engines and nine water-dropping aircraft were deployed, the agency said. Two firefighters were treated in hospital for burns. No deaths had been reported by the evening.

The civil protection agency said 74 wildfires had broken out across Ardenia in the past 24 hours and warned that the risk would remain "extreme" until the weekend.

Police detained a 58-year-old man on suspicion of starting the fire while burning garden waste, a police spokesman said.

Ardenia has had its driest spring and summer in 60 years, according to the national weather service. Fires burned more than 40,000 hectares in the country last year."""

# The same copy as a regional outlet carries it: its own intro paragraph, "Related" lines, footer.
WILDFIRE_LERNA_LEDGER = (
    """\
Lerna fire: thousands flee as flames reach edge of Port Lerna

Families in Sarnia and Port Lerna spent the night in sports halls and schools in Lerna town, and the coast road remained closed on Wednesday morning. Here is what we know so far.

LERNA, Ardenia, July 30 (Wire) - A wildfire driven by strong winds forced the evacuation of about 6,000 people from villages and holiday resorts on Ardenia's Lerna coast on Tuesday, the civil protection agency said, as temperatures passed 42 degrees Celsius for a fifth day.

The fire broke out in pine forest above the village of Sarnia shortly after noon and spread towards the coast along a front of about 8 km, the agency said. Firefighters were battling flames on the edge of Port Lerna, where tourists were taken from beaches by boat.

Related: Which roads are closed on the Lerna coast

"We were told to leave in ten minutes. We took the dog and the passports and nothing else," said Marco Tellen, a hotel owner in Sarnia, who was sheltering in a sports hall in Lerna town.

More than 300 firefighters, 60 fire engines and nine water-dropping aircraft were deployed, the agency said. Two firefighters were treated in hospital for burns. No deaths had been reported by the evening.

Related: Fire risk map for the weekend

The civil protection agency said 74 wildfires had broken out across Ardenia in the past 24 hours and warned that the risk would remain "extreme" until the weekend.

Police detained a 58-year-old man on suspicion of starting the fire while burning garden waste, a police spokesman said.

Ardenia has had its driest spring and summer in 60 years, according to the national weather service. Fires burned more than 40,000 hectares in the country last year.

"""
    + _LEDGER_FOOTER
)

WILDFIRE_TORVA_LEDGER = (
    """\
Second fire in a week: blaze near Torva burns olive groves, 900 evacuated

The fire started less than 30 km from the one that forced thousands to leave the Lerna coast last week, and the coast road was closed again on Tuesday afternoon.

TORVA, Ardenia, Aug. 6 (Wire) - A wildfire burned through olive groves and farmland near the town of Torva on Ardenia's Lerna coast on Tuesday, forcing the evacuation of about 900 people from three villages, the civil protection agency said.

The fire started in dry scrub beside the motorway and was pushed inland by gusts of up to 70 km an hour, the agency said. About 1,200 hectares had burned by the evening, including olive groves that farmers said were more than a century old.

"My grandfather planted these trees. In one afternoon everything is black," said Ana Ristel, who grows olives outside the village of Kedra.

More than 200 firefighters and six water-dropping aircraft were deployed. A firefighter was injured when his truck overturned on a forest track.

Related: Which roads are closed on the Lerna coast

The civil protection agency warned that the risk would remain "extreme" until the weekend, with temperatures expected to reach 44 degrees Celsius on Thursday.

Ardenia has had its driest spring and summer in 60 years, according to the national weather service. Fires burned more than 40,000 hectares in the country last year.

"""
    + _LEDGER_FOOTER
)


# --- Trade talks (Norvan and Ardenia) ------------------------------------------------------

TRADE_STEEL = """\
Norvan and Ardenia agree to lift steel tariffs after two years of dispute

TARVO, Ardenia, Nov. 14 (Wire) - Norvan and Ardenia agreed on Thursday to remove tariffs on each other's steel and aluminium by January, ending a two-year trade dispute that had cut trade between the neighbours by almost a fifth, their trade ministers said.

Under the deal, Ardenia will scrap a 25 percent duty on Norvanian steel imposed in 2022, and Norvan will lift retaliatory tariffs on Ardenian wine, machinery and furniture, Ardenian Trade Minister Viktor Lasz told a joint news conference with his Norvanian counterpart, Ingrid Solberg.

"This is a good day for our workers and for our consumers," Solberg said. "We have shown that neighbours can solve their problems at the table."

The two countries will also set up a joint committee to monitor steel imports from third countries, which Ardenian producers blame for a collapse in prices.

Ardenia's steelworkers' union said it would study the text but warned that its members at the Brenna steelworks were at risk if Norvanian imports surged again.

Trade between Norvan and Ardenia was worth about 11 billion euros in 2021, before the dispute began, according to official figures. Norvan is Ardenia's second largest trading partner after Germany.

The agreement must be approved by both parliaments, which is expected before the end of the year."""

TRADE_STEEL_LEDGER = (
    """\
Steel peace: Norvan and Ardenia end two-year tariff war

TARVO, Ardenia, Nov. 14 (Wire) - Norvan and Ardenia agreed on Thursday to remove tariffs on each other's steel and aluminium by January, ending a two-year trade dispute that had cut trade between the neighbours by almost a fifth, their trade ministers said.

Under the deal, Ardenia will scrap a 25 percent duty on Norvanian steel imposed in 2022, and Norvan will lift retaliatory tariffs on Ardenian wine, machinery and furniture, Ardenian Trade Minister Viktor Lasz told a joint news conference with his Norvanian counterpart, Ingrid Solberg.

"This is a good day for our workers and for our consumers," Solberg said. "We have shown that neighbours can solve their problems at the table."

The two countries will also set up a joint committee to monitor steel imports from third countries, which Ardenian producers blame for a collapse in prices.

Ardenia's steelworkers' union said it would study the text but warned that its members at the Brenna steelworks were at risk if Norvanian imports surged again.

Trade between Norvan and Ardenia was worth about 11 billion euros in 2021, before the dispute began, according to official figures. Norvan is Ardenia's second largest trading partner after Germany.

The agreement must be approved by both parliaments, which is expected before the end of the year.

Reporting by Lena Vosk in Tarvo; Additional reporting by Nils Arne in Vikstad; Editing by Hana Ruel

"""
    + _LEDGER_FOOTER
)

TRADE_DAIRY_LEDGER = (
    """\
Norvan and Ardenia clash over dairy quotas weeks after steel deal

VIKSTAD, Norvan, Dec. 5 (Wire) - Norvan accused Ardenia on Thursday of breaking the spirit of last month's steel agreement by limiting imports of Norvanian milk and cheese, and said it would take the case to the regional trade court.

Norvanian Trade Minister Ingrid Solberg said an Ardenian decree capping dairy imports at 2023 levels would cost Norvan's farmers about 150 million euros a year. "We did not sign a deal on steel to lose our dairy market," she told reporters in Vikstad.

Ardenian Trade Minister Viktor Lasz said the quota was a temporary measure to protect farmers hit by drought and had nothing to do with the steel deal. "We are ready to discuss it at the table, as neighbours," he said in a statement.

Ardenia's parliament approved the steel agreement on Tuesday. Norvan's parliament is due to vote next week, and opposition lawmakers have said they will vote against it unless the dairy quota is withdrawn.

Trade between Norvan and Ardenia was worth about 11 billion euros in 2021, before the dispute began, according to official figures. Norvan is Ardenia's second largest trading partner after Germany.

Reporting by Nils Arne in Vikstad; Additional reporting by Lena Vosk in Tarvo; Editing by Hana Ruel

"""
    + _LEDGER_FOOTER
)


# --- Fuel protests (Azeli) -----------------------------------------------------------------

PROTEST_QARSA = """\
Police fire tear gas as thousands protest fuel price rise in Azeli capital

QARSA, Azeli, Jan. 22 (Wire) - Police in Azeli's capital fired tear gas and water cannon on Sunday to disperse thousands of protesters demanding that the government reverse a 40 percent rise in fuel prices, witnesses said.

Demonstrators, many of them students and taxi drivers, marched from the university to parliament chanting "bread, fuel, dignity" and burned tyres on the main avenue. Some threw stones at police lines.

The interior ministry said 86 people had been arrested and 23 police officers injured. A doctor at the city's main hospital said about 40 protesters had been treated, mostly for breathing problems and injuries from rubber bullets.

"I drive 14 hours a day and I can no longer feed my children," said Karim Bensaid, a 37-year-old taxi driver. "They took the subsidy and gave us nothing."

The government raised fuel prices on Jan. 1 as part of a reform programme agreed with the International Monetary Fund in exchange for a $1.8 billion loan. Prime Minister Nadia Fahri said on television on Saturday that the reform was "painful but necessary" and promised cash payments to the poorest families.

Opposition parties and the main trade union federation have called for a general strike on Wednesday.

Azeli has been hit by high inflation since a drought cut harvests two years ago. Consumer prices rose 19 percent last year, according to the statistics office."""

PROTEST_QARSA_COURIER = (
    """\
Azeli's fuel revolt reaches parliament's doors

Anger over the end of fuel subsidies has been building for weeks in Azeli, where our correspondent spoke to protesters on Sunday evening.

QARSA, Azeli, Jan. 22 (Wire) - Police in Azeli's capital fired tear gas and water cannon on Sunday to disperse thousands of protesters demanding that the government reverse a 40 percent rise in fuel prices, witnesses said.

Demonstrators, many of them students and taxi drivers, marched from the university to parliament chanting "bread, fuel, dignity" and burned tyres on the main avenue. Some threw stones at police lines.

The interior ministry said 86 people had been arrested and 23 police officers injured. A doctor at the city's main hospital said about 40 protesters had been treated, mostly for breathing problems and injuries from rubber bullets.

"I drive 14 hours a day and I can no longer feed my children," said Karim Bensaid, a 37-year-old taxi driver. "They took the subsidy and gave us nothing."

The government raised fuel prices on Jan. 1 as part of a reform programme agreed with the International Monetary Fund in exchange for a $1.8 billion loan. Prime Minister Nadia Fahri said on television on Saturday that the reform was "painful but necessary" and promised cash payments to the poorest families.

Reporting by Samir Adel; Editing by Julia Fenn

"""
    + _COURIER_BOX
)

PROTEST_SIDRA = """\
Fuel protests spread to Azeli's port city of Sidra, one killed

SIDRA, Azeli, Jan. 24 (Wire) - One man was killed and dozens injured in clashes between police and protesters in Azeli's second city, Sidra, on Tuesday as anger over a 40 percent rise in fuel prices spread beyond the capital, the interior ministry said.

The ministry said the man, a 22-year-old dock worker, died in hospital from a head wound and that an investigation had been opened. Witnesses said police had fired rubber bullets at crowds trying to block the road to the port.

Fishermen tied up their boats in protest, saying they could no longer afford diesel. "A full tank now costs more than we earn in a week at sea," said Youssef Amri, who owns a small trawler.

The interior ministry said 112 people had been arrested in Sidra and 31 police officers injured. Protests on Sunday in the capital, Qarsa, ended with 86 arrests.

Prime Minister Nadia Fahri announced late on Tuesday that fishermen and taxi drivers would receive a fuel voucher for three months, but opposition parties said the general strike planned for Wednesday would go ahead.

The government raised fuel prices on Jan. 1 as part of a reform programme agreed with the International Monetary Fund in exchange for a $1.8 billion loan."""


# --- Aid convoys in Kiruvan (Tamsen) -------------------------------------------------------

CONVOY_AMBESSA = """\
Gunmen attack UN food convoy in Tamsen's Kiruvan, two drivers killed

ADDA, Tamsen, June 14 (Wire) - Gunmen attacked a World Food Programme convoy on the road between Dulo and Ambessa in Tamsen's Kiruvan province on Thursday, killing two truck drivers and wounding a third, the UN agency said.

The 18 trucks were carrying about 400 tonnes of sorghum, lentils and cooking oil for families who fled fighting between the army and Northern Alliance rebels earlier this year, the agency said. Four trucks were looted and set on fire.

"Humanitarian workers are not a target. This attack deprives thousands of hungry people of food they desperately need," WFP's country director for Tamsen, Sofia Lindqvist, said in a statement.

No group claimed responsibility. A spokesman for the Tamsen army blamed the Northern Alliance, which denied any role and said "criminal gangs" operated on the road.

The agency said it was suspending convoys on the Dulo-Ambessa road until security could be guaranteed, cutting off supplies to about 70,000 people.

At least 14 aid workers have been killed in Tamsen this year, according to the United Nations, making it one of the most dangerous countries in the world for humanitarian staff.

Kiruvan has been contested since the Northern Alliance was formed in 2015 by former army officers. More than 1.2 million people are internally displaced across Tamsen, according to the United Nations."""

# The same story as updated later in the day: a paragraph added, the background cut.
CONVOY_AMBESSA_UPDATED = """\
Gunmen attack UN food convoy in Tamsen's Kiruvan, two drivers killed

ADDA, Tamsen, June 14 (Wire) - Gunmen attacked a World Food Programme convoy on the road between Dulo and Ambessa in Tamsen's Kiruvan province on Thursday, killing two truck drivers and wounding a third, the UN agency said.

The 18 trucks were carrying about 400 tonnes of sorghum, lentils and cooking oil for families who fled fighting between the army and Northern Alliance rebels earlier this year, the agency said. Four trucks were looted and set on fire.

"Humanitarian workers are not a target. This attack deprives thousands of hungry people of food they desperately need," WFP's country director for Tamsen, Sofia Lindqvist, said in a statement.

The UN Secretary-General condemned the attack in a statement issued in New York on Thursday evening and called on the Tamsen authorities to find and prosecute those responsible.

No group claimed responsibility. A spokesman for the Tamsen army blamed the Northern Alliance, which denied any role and said "criminal gangs" operated on the road.

The agency said it was suspending convoys on the Dulo-Ambessa road until security could be guaranteed, cutting off supplies to about 70,000 people."""

CONVOY_HARO = """\
Aid convoy ambushed near Haro, a week after WFP resumed deliveries in Kiruvan

ADDA, Tamsen, July 2 (Wire) - Armed men ambushed an aid convoy near the town of Haro in Tamsen's Kiruvan province on Tuesday, wounding a driver and seizing three trucks loaded with medicine and water purification tablets, the Tamsen Red Crescent said.

The convoy of nine trucks was heading to a clinic that treats cholera patients in Haro, the organisation said. The driver, who was shot in the leg, was taken to hospital in Dulo.

The attack came a week after the World Food Programme resumed deliveries on the Dulo-Ambessa road, which it suspended in June after two drivers were killed there.

"Every attack means that medicine does not reach patients who will die without it," the Red Crescent's secretary general, Abel Worku, told reporters in Adda.

A spokesman for the army said soldiers had been sent to escort convoys on all roads into Haro. The Northern Alliance said its fighters were not in the area.

At least 16 aid workers have been killed in Tamsen this year, according to the United Nations, making it one of the most dangerous countries in the world for humanitarian staff.

Kiruvan has been contested since the Northern Alliance was formed in 2015 by former army officers. More than 1.2 million people are internally displaced across Tamsen, according to the United Nations."""


# --- Drought and food prices (Azeli) -------------------------------------------------------

DROUGHT_SAHRUN = """\
Drought pushes Azeli grain prices to record as herders lose cattle

SIDRA, Azeli, Sept. 18 (Wire) - Prices of sorghum and millet in markets in Azeli's southern Sahrun region have more than doubled in a year after a third failed rainy season, the United Nations food agency said on Wednesday, warning that 1.4 million people faced acute hunger.

In its latest market report, the Food and Agriculture Organization said a 100 kg sack of sorghum cost 9,200 dinars in Bir Ketta in August, against 4,100 dinars a year earlier. Herders were selling cattle at a fraction of their usual value because there was no pasture left.

"Families are eating once a day, and in some villages they have started to sell their seed stocks," said the agency's representative in Azeli, Jean-Paul Ndaye.

The report said rainfall between June and August was 55 percent below the long-term average across most of Sahrun, and that the coming harvest would be the smallest in more than a decade.

The government has banned grain exports until March and said it would sell 50,000 tonnes from strategic reserves at subsidised prices. Aid agencies say that is not enough.

Disputes over water and pasture have led to deadly clashes between clans in the region this year. A ceasefire agreed in Bir Ketta in March has largely held.

The World Food Programme said it needed $120 million to provide food to 800,000 people in Sahrun until the next harvest, and that its operation in Azeli was 30 percent funded."""

# The same copy as a news site runs it: its own intro, the first paragraphs, a newsletter box.
DROUGHT_SAHRUN_BRIEF = (
    """\
Sorghum prices double in Sahrun as drought deepens

Our weekly round-up of food security in the region starts in southern Azeli this week.

SIDRA, Azeli, Sept. 18 (Wire) - Prices of sorghum and millet in markets in Azeli's southern Sahrun region have more than doubled in a year after a third failed rainy season, the United Nations food agency said on Wednesday, warning that 1.4 million people faced acute hunger.

In its latest market report, the Food and Agriculture Organization said a 100 kg sack of sorghum cost 9,200 dinars in Bir Ketta in August, against 4,100 dinars a year earlier. Herders were selling cattle at a fraction of their usual value because there was no pasture left.

"""
    + _COURIER_BOX
)


PAIRS: tuple[Pair, ...] = (
    # --- same story, as republished ---
    Pair("wire-rewritten-headline-footer", True, CEASEFIRE_KALVAR, CEASEFIRE_KALVAR_LEDGER),
    Pair("wire-first-40pct", True, DISPLACEMENT_KIRUVAN, DISPLACEMENT_KIRUVAN_BRIEF),
    Pair("wire-paragraphs-reordered", True, ENVOY_MOSCOW, ENVOY_MOSCOW_REORDERED),
    Pair("wire-outlet-intro-related-lines", True, FLOOD_BRESA, FLOOD_BRESA_RELATED),
    Pair("wire-translation-rewording", True, RATES_ARDENIA, RATES_ARDENIA_REWORDED),
    Pair("wire-updated-toll-new-paragraph", True, QUAKE_HALLAN, QUAKE_HALLAN_UPDATED),
    Pair("wire-trimmed-with-footer", True, ELECTION_FIRST_ROUND, ELECTION_FIRST_ROUND_TRIMMED),
    Pair("wire-translated-back-throughout", True, MINE_ZAROV, MINE_ZAROV_TRANSLATED),
    Pair("wire-newsletter-box-midtext", True, CHOLERA_TAMSEN, CHOLERA_TAMSEN_NEWSLETTER),
    Pair("wire-reordered-and-trimmed", True, STRIKE_SALLAN, STRIKE_SALLAN_REORDERED),
    Pair("wire-short-new-headline", True, PRISONERS_FIRST, PRISONERS_FIRST_SHORT),
    Pair("wire-regional-intro-related-footer", True, WILDFIRE_LERNA, WILDFIRE_LERNA_LEDGER),
    Pair("wire-reporting-by-footer", True, TRADE_STEEL, TRADE_STEEL_LEDGER),
    Pair("wire-intro-cut-reporting-box", True, PROTEST_QARSA, PROTEST_QARSA_COURIER),
    Pair("wire-update-added-background-cut", True, CONVOY_AMBESSA, CONVOY_AMBESSA_UPDATED),
    Pair("wire-short-intro-newsletter-box", True, DROUGHT_SAHRUN, DROUGHT_SAHRUN_BRIEF),
    # --- different stories on the same topic ---
    Pair("ceasefire-two-countries", False, CEASEFIRE_KALVAR, CEASEFIRE_SAHRUN),
    Pair("ceasefire-vs-breach-shared-background", False, CEASEFIRE_KALVAR, CEASEFIRE_KALVAR_BREACH),
    Pair(
        "displacement-two-countries-same-spokeswoman",
        False,
        DISPLACEMENT_KIRUVAN,
        DISPLACEMENT_DARGESH,
    ),
    Pair("displacement-two-weeks-apart", False, DISPLACEMENT_KIRUVAN, DISPLACEMENT_KIRUVAN_LATER),
    Pair("envoy-moscow-vs-beijing", False, ENVOY_MOSCOW, ENVOY_BEIJING),
    Pair("flood-followup-new-figures", False, FLOOD_BRESA, FLOOD_BRESA_FOLLOWUP),
    Pair("rates-hike-vs-next-meeting-hold", False, RATES_ARDENIA, RATES_ARDENIA_JULY),
    Pair("quake-vs-aftershock", False, QUAKE_HALLAN, QUAKE_HALLAN_AFTERSHOCK),
    Pair("election-first-round-vs-runoff", False, ELECTION_FIRST_ROUND, ELECTION_RUNOFF),
    Pair("mine-blast-vs-later-collapse", False, MINE_ZAROV, MINE_KOSTEL),
    Pair("cholera-two-countries-who-boilerplate", False, CHOLERA_TAMSEN, CHOLERA_AZELI),
    Pair("strike-sallan-vs-river-ports", False, STRIKE_SALLAN, STRIKE_ORLEN_RIVER),
    Pair("prisoner-swap-first-vs-second", False, PRISONERS_FIRST, PRISONERS_SECOND),
    Pair("wildfire-two-fires-same-footer", False, WILDFIRE_LERNA_LEDGER, WILDFIRE_TORVA_LEDGER),
    Pair("trade-steel-vs-dairy-same-footer", False, TRADE_STEEL_LEDGER, TRADE_DAIRY_LEDGER),
    Pair("protest-capital-vs-port-city", False, PROTEST_QARSA, PROTEST_SIDRA),
    Pair("convoy-two-attacks-same-province", False, CONVOY_AMBESSA, CONVOY_HARO),
)
